/**
 * Carries DMA transactions out in simulated time. Each page: translate (translation-path.ts), move the
 * bytes, then schedule the next page after the translation and transfer cost; after the last page the
 * transaction completes. A page that does not translate goes to the fault path (fault-path.ts), which
 * either takes the transaction (page request, stall, the device's own handling: it waits, then retries
 * the same page or fails) or leaves it to end with an unrecoverable fault recorded by the IOMMU.
 */
import { PAGE_SIZE, formatAddress } from '../address';
import { type CacheHit, newCacheHit } from '../cache/translation-cache';
import type { Device } from '../device/device';
import { NO_PASID } from '../domain/domain';
import type { FaultPath, TransactionControl, TransactionError } from '../fault/fault-path';
import { type FaultFlow, HOP_RETRANSLATE, NO_HOP } from '../flow/fault-flow';
import type { FaultRecord } from '../iommu/fault-record';
import {
  SOURCE_ATC,
  SOURCE_IDENTITY,
  SOURCE_IOTLB,
  SOURCE_NAMES,
  SOURCE_WALK,
  type Translation,
  newTranslation,
} from '../iommu/translation';
import type { ScopeMetrics } from '../metrics/metrics';
import { ACCESS_BIT } from '../pagetable/permissions';
import type { SimEnvironment } from '../sim/environment';
import type { EventPayloads } from '../sim/events';
import { type DmaRequest, Transaction } from './transaction';
import { translateForDevice } from './translation-path';
import { type ReadonlyList, ReusableList } from '../sim/pool';

export class DmaEngine implements TransactionControl {
  private readonly active = new Map<number, Transaction>();
  private nextId = 1;
  private readonly translation: Translation = newTranslation();
  private readonly hit: CacheHit = newCacheHit();
  private readonly stepAction = (id: number): void => this.step(id);
  /** Lists of flows a retry answers, reused: the fault path reuses the arrays it hands to `retry`. */
  private readonly spareFlowLists: ReusableList<FaultFlow>[] = [];

  constructor(
    private readonly env: SimEnvironment,
    private readonly faults: FaultPath,
  ) {
    faults.connect(this);
  }

  /** Transactions not yet ended. */
  get inFlight(): number {
    return this.active.size;
  }

  submit(request: DmaRequest): Transaction {
    const { scheduler } = this.env;
    const transaction = new Transaction(
      this.nextId++,
      request,
      ACCESS_BIT[request.access],
      scheduler.nowNs,
      request.device.metricScopes[1],
      request.device.metricScopes[2],
    );
    this.active.set(transaction.id, transaction);
    scheduler.schedule(scheduler.nowNs, this.stepAction, transaction.id);
    return transaction;
  }

  /** Ends every transaction of a device with an error completion (function reset). */
  abortDevice(device: Device, cause: string): number {
    let aborted = 0;
    for (const transaction of [...this.active.values()]) {
      if (transaction.device !== device) continue;
      transaction.error = 'reset';
      this.end(transaction, 'aborted');
      this.env.bus.emit({ kind: 'dma.aborted', transaction: transaction.id, device: device.id, cause });
      aborted++;
    }
    return aborted;
  }

  // ——— TransactionControl, used by the fault path ———

  retry(transaction: Transaction, delayNs: number, resuming: ReadonlyList<FaultFlow>): void {
    if (!this.active.has(transaction.id)) return;
    transaction.state = 'running';
    transaction.recoveries++;
    const list = this.spareFlowLists.pop() ?? new ReusableList<FaultFlow>();
    for (let i = 0; i < resuming.size; i++) {
      list.push(resuming.at(i));
      this.faults.flows.hold(resuming.at(i));
    }
    if (transaction.resuming !== null) this.spare(transaction.resuming);
    transaction.resuming = list;
    this.env.scheduler.after(delayNs, this.stepAction, transaction.id);
  }

  fail(transaction: Transaction, error: TransactionError, fault: FaultRecord | null): void {
    if (!this.active.has(transaction.id)) return;
    transaction.error = error;
    transaction.fault = fault;
    this.end(transaction, 'faulted');
  }

  failUnrecoverable(transaction: Transaction, failed: Translation): void {
    const { request } = transaction;
    const page = request.page + transaction.pageIndex;
    const inPage = transaction.pageIndex === 0 ? request.offset : 0;
    this.fail(
      transaction,
      'unrecoverable',
      this.faults.recordUnrecoverable(transaction, page, inPage, failed),
    );
  }

  // ——— one page ———

  private step(id: number): void {
    const transaction = this.active.get(id);
    if (transaction === undefined) return; // ended while its next step was scheduled
    if (transaction.pageIndex === transaction.pages) {
      this.end(transaction, 'completed');
      return;
    }
    const { request } = transaction;
    const page = request.page + transaction.pageIndex;
    const inPage = transaction.pageIndex === 0 ? request.offset : 0;
    const chunk = Math.min(PAGE_SIZE - inPage, request.length - transaction.bytesDone);
    const t = this.translation;
    const ok = translateForDevice(
      request.device,
      request.pasid,
      page,
      transaction.accessBit,
      request.privileged,
      this.env.latency,
      t,
      this.hit,
    );
    this.count(transaction, t, chunk, ok);
    if (transaction.resuming !== null) this.endResumed(transaction, ok ? t.costNs : 0, ok);
    if (!ok) {
      if (!this.faults.takeFault(transaction, page, t)) this.failUnrecoverable(transaction, t);
      transaction.refaultedAfter = NO_FLOWS;
      return;
    }
    this.moveData(transaction, t.pfn, inPage, chunk);
    if (this.env.bus.wants('dma.page')) {
      this.env.bus.emit({
        kind: 'dma.page',
        transaction: transaction.id,
        device: request.device.id,
        pasid: request.pasid === NO_PASID ? null : request.pasid,
        address: formatAddress(page),
        frame: formatAddress(t.pfn),
        source: SOURCE_NAMES[t.source] as 'atc' | 'iotlb' | 'walk' | 'identity',
        costNs: t.costNs,
      });
    }
    transaction.pageIndex++;
    transaction.bytesDone += chunk;
    const transferNs = Math.ceil(chunk / this.env.latency.transferBytesPerNs);
    this.env.scheduler.schedule(this.env.scheduler.nowNs + t.costNs + transferNs, this.stepAction, id);
  }

  /**
   * The translation after a retry ends the flows it answered: resumed when it succeeds (the retranslate
   * hop is its cost), refaulted when it fails again, and then they are the causes of the new fault's flows.
   */
  private endResumed(transaction: Transaction, costNs: number, ok: boolean): void {
    const resuming = transaction.resuming!;
    transaction.resuming = null;
    const now = this.env.scheduler.nowNs;
    const ids: number[] | null = ok ? null : [];
    for (let i = 0; i < resuming.size; i++) {
      const flow = resuming.at(i);
      if (flow.ended) continue;
      flow.hop(HOP_RETRANSLATE, now + costNs, NO_HOP);
      this.faults.endFlow(flow, ok ? 'resumed' : 'refaulted', NO_HOP);
      ids?.push(flow.id);
    }
    if (ids !== null) transaction.refaultedAfter = ids;
    if (this.env.bus.wants('dma.retried')) {
      this.env.bus.emit({
        kind: 'dma.retried',
        transaction: transaction.id,
        device: transaction.device.id,
        flows: resuming.toArray().map((flow) => flow.id),
      });
    }
    this.spare(resuming);
  }

  /** A retry's list is done with: its flows are let go (reused once ended), the list kept for the next. */
  private spare(list: ReusableList<FaultFlow>): void {
    for (let i = 0; i < list.size; i++) this.faults.flows.letGo(list.at(i));
    list.clear();
    this.spareFlowLists.push(list);
  }

  private moveData(transaction: Transaction, pfn: number, inPage: number, chunk: number): void {
    const { request } = transaction;
    if (request.access === 'write') {
      if (request.data)
        this.env.memory.write(
          pfn,
          inPage,
          request.data.subarray(transaction.bytesDone, transaction.bytesDone + chunk),
        );
    } else if (transaction.readBack) {
      this.env.memory.read(pfn, inPage, chunk, transaction.readBack, transaction.bytesDone);
    }
  }

  private count(transaction: Transaction, t: Translation, chunk: number, ok: boolean): void {
    this.env.metrics.translationLatency.record(t.costNs);
    this.env.metrics.series.translation(t.source, t.atsRequest);
    this.countIn(this.env.metrics.system, t, chunk, ok);
    this.countIn(transaction.deviceMetrics, t, chunk, ok);
    this.countIn(transaction.iommuMetrics, t, chunk, ok);
  }

  private countIn(scope: ScopeMetrics, t: Translation, chunk: number, ok: boolean): void {
    if (t.source === SOURCE_ATC) scope.atcHits++;
    else if (t.atsRequest) scope.atcMisses++;
    if (t.source === SOURCE_IOTLB) scope.iotlbHits++;
    else if (t.source === SOURCE_IDENTITY) scope.identity++;
    else if (t.source === SOURCE_WALK) {
      scope.iotlbMisses++;
      scope.walks++;
    }
    if (ok) {
      scope.pages++;
      scope.bytes += chunk;
    }
  }

  /** Every transaction ends here exactly once: metrics, the end event, the caller's callback. */
  private end(transaction: Transaction, state: 'completed' | 'faulted' | 'aborted'): void {
    transaction.state = state;
    transaction.finishedNs = this.env.scheduler.nowNs;
    // Flows answered and waiting for the retry that will not come now.
    if (transaction.resuming !== null) {
      const { resuming } = transaction;
      for (let i = 0; i < resuming.size; i++) this.faults.endFlowIf(resuming.at(i), 'aborted');
      this.spare(transaction.resuming);
      transaction.resuming = null;
    }
    this.active.delete(transaction.id);
    countEnd(this.env.metrics.system, state, transaction.latencyNs);
    countEnd(transaction.deviceMetrics, state, transaction.latencyNs);
    countEnd(transaction.iommuMetrics, state, transaction.latencyNs);
    if (state !== 'aborted') this.emitEnd(transaction);
    transaction.request.onEnd?.(transaction);
  }

  /** The end event, built only when someone listens to its kind. */
  private emitEnd(transaction: Transaction): void {
    const { bus } = this.env;
    if (transaction.state === 'completed') {
      if (bus.wants('dma.completed')) bus.emit(endEvent('dma.completed', transaction));
      return;
    }
    if (!bus.wants('dma.faulted')) return;
    const { request } = transaction;
    const page = request.page + transaction.pageIndex;
    bus.emit({
      ...endEvent('dma.faulted', transaction),
      bytesDone: transaction.bytesDone,
      error: transaction.error!,
      fault: transaction.fault?.fault ?? null,
      faultAddress:
        transaction.fault?.address ?? formatAddress(page, transaction.pageIndex === 0 ? request.offset : 0),
    });
  }
}

/** One scope's count of how transactions end, and their latency. */
function countEnd(scope: ScopeMetrics, state: 'completed' | 'faulted' | 'aborted', latencyNs: number): void {
  if (state === 'completed') scope.completed++;
  else if (state === 'faulted') scope.faulted++;
  else scope.aborted++;
  scope.dmaLatency.record(latencyNs);
}

/** What dma.completed and dma.faulted both say, in the order the trace has it. */
function endEvent<K extends 'dma.completed' | 'dma.faulted'>(
  kind: K,
  transaction: Transaction,
): { kind: K } & EventPayloads['dma.completed'] {
  const { request } = transaction;
  return {
    kind,
    transaction: transaction.id,
    device: request.device.id,
    pasid: request.pasid === NO_PASID ? null : request.pasid,
    address: formatAddress(request.page, request.offset),
    length: request.length,
    access: request.access,
    privileged: request.privileged,
    latencyNs: transaction.latencyNs,
    recoveries: transaction.recoveries,
    flows: transaction.flows ?? [],
  };
}

const NO_FLOWS: readonly number[] = [];
