/**
 * The I/O page fault path, one page request from the device to its response (reference §2, §5, §6, §10).
 * Read top to bottom; each step is a method named for it:
 *
 *   takeFault           a DMA translation failed: PRI, stall, the device's own driver, or unrecoverable
 *   sendPageRequests    device: the faulting pages of a burst as one page request group, within credit
 *   receivePageRequest  IOMMU: the request enters the hardware queue (or overflows it)
 *   drainQueue          driver thread: reads the queue, family checks (the family model's intake), then reports
 *   report              iopf core: find the handler, collect partials, build the group, dispatch
 *   respond             exactly one response per group; encoded per family and sent to the device
 *   receiveResponse     device: Success retries, Invalid fails, Failure stops PRI until reset
 *
 * Stall (stall.ts) and device-managed faults (self-fault.ts) join the same core at `report` and
 * `respond`. Timeouts, detach and reset answer whatever is still pending, so every group is answered.
 *
 * Each fault is a flow (flow/fault-flow.ts): every step above ends one of its hops at the simulated time
 * the step takes effect, with the latency model's cost, and the flow ends when the DMA resumes or fails.
 */
import { type CacheHit, newCacheHit } from '../cache/translation-cache';
import type { Device } from '../device/device';
import { Burst, OutstandingGroup, PriRequester } from '../device/pri-requester';
import { type Domain, NO_PASID } from '../domain/domain';
import type { Transaction } from '../dma/transaction';
import { translateForDevice } from '../dma/translation-path';
import { fail } from '../errors';
import { FAULT_ADDRESS_SIZE, faultKindName, isRecoverableKind } from '../iommu/fault-kind';
import type { FaultRecord } from '../iommu/fault-record';
import type { Iommu } from '../iommu/iommu';
import type { WireResponse } from '../iommu/family';
import { type Translation, newTranslation } from '../iommu/translation';
import { PERM_EXEC, PERM_PRIV, PERM_READ } from '../pagetable/permissions';
import type { SimEnvironment } from '../sim/environment';
import { DeviceFaultState } from './device-fault-state';
import { type FoundHandler, faultCategory, findFaultHandler } from './find-handler';
import { type FaultHandler, type HandlerContext, answeredOutside } from './handlers/fault-handler';
import { formatAddress } from '../address';
import { formatProt } from '../pagetable/permissions';
import { ExternalFaultHandler } from './handlers/external-handler';
import { IopfGroup, type ResponseCause } from './iopf-group';
import {
  PAGE_REQUEST_LAST_PAGE,
  PAGE_REQUEST_PASID_VALID,
  PAGE_REQUEST_RESPONSE_NEEDS_PASID,
  type PageRequest,
  type ResponseCode,
  blankPageRequest,
  flowIds,
  isLast,
} from './page-request';
import { Pool, type ReadonlyList, ReusableList, SlotTable } from '../sim/pool';
import { StallUnit } from './stall';
import { FAIL_GROUP } from '../injection/fail-nth';
import { resolveOwnFault } from './self-fault';
import { FaultMetrics } from './fault-metrics';
import {
  type LivelockFigures,
  type LivelockOptions,
  DEFAULT_LIVELOCK,
  LivelockDetector,
  newLivelockFigures,
} from './livelock-detector';
import {
  type FaultFlow,
  type FlowOutcome,
  HOP_CLIENT_WAIT,
  HOP_CREDIT_WAIT,
  HOP_DISPATCH,
  HOP_GROUP_WAIT,
  HOP_HANDLER,
  HOP_OVERFLOW_RESPONSE,
  HOP_QUEUE_WAIT,
  HOP_RESPONSE_WRITE,
  HOP_RETRANSLATE,
  HOP_TIMEOUT,
  HOP_TO_DEVICE,
  HOP_TO_IOMMU,
  NO_HOP,
  type PageGone,
} from '../flow/fault-flow';
import { FlowRecorder } from '../flow/flow-recorder';
import type { CarriedRecord } from '../records/bit-layout';
import type { EventInput } from '../sim/events';
import {
  iommuFaultOf,
  pageRequestMessage,
  pageResponseOf,
  prgResponseMessage,
  queueEntryOf,
  responseCommandOf,
} from './fault-records';

/** How a transaction that went down the fault path ended, when it did not complete. */
export type TransactionError =
  | 'unrecoverable'
  | 'page-request-invalid'
  | 'response-failure'
  | 'pri-stopped'
  | 'stall-terminated'
  | 'device-fault-failed'
  | 'reset';

/** What the fault path needs from the DMA engine. */
export interface TransactionControl {
  /** Translate the transaction's current page again after `delayNs`; that translation ends `resuming`. */
  retry(transaction: Transaction, delayNs: number, resuming: ReadonlyList<FaultFlow>): void;
  /** End it with an error completion. */
  fail(transaction: Transaction, error: TransactionError, fault: FaultRecord | null): void;
  /** Record an unrecoverable fault for the transaction's current page and end it. */
  failUnrecoverable(transaction: Transaction, failed: Translation): void;
}

/** Pages a device translates ahead when building a burst (one work item's worth). */
const MAX_BURST_PAGES = 32;

/** How a page request queue's overflow storm stopped the system (livelock-detector.ts). */
export interface Livelock extends LivelockFigures {
  iommu: string;
  queue: string;
  /** Simulated time it was detected, when the system stopped. */
  atNs: number;
}

export class FaultPath implements HandlerContext {
  readonly metrics: FaultMetrics;
  readonly flows: FlowRecorder;
  readonly stall: StallUnit;
  /** Groups waiting for an outside client, by cookie. */
  readonly awaitingClient = new Map<number, IopfGroup>();
  private control: TransactionControl | null = null;
  private nextRequestSeq = 1;
  private nextGroupId = 1;
  private nextCookie = 1;
  private readonly lookahead: Translation = newTranslation();
  private readonly lookaheadHit: CacheHit = newCacheHit();
  private readonly found: FoundHandler = { handler: null, domain: null, category: null, cause: 'no-handler' };
  /** One overflow-storm detector per IOMMU, made at its first page request. */
  private readonly detectors = new Map<Iommu, LivelockDetector>();
  private readonly figures: LivelockFigures = newLivelockFigures();
  /** Set when a livelock stopped the system: nothing runs after it. */
  livelock: Livelock | null = null;
  /**
   * What a fault is made of, reused from one fault to the next so that a warm lab allocates nothing per
   * fault (issue 13): each is set up whole when taken and returned when its life ends.
   */
  private readonly requestPool = new Pool<PageRequest>('page requests', blankPageRequest);
  private readonly burstPool = new Pool<Burst>('bursts', () => new Burst());
  private readonly sentPool = new Pool<OutstandingGroup>('outstanding groups', () => new OutstandingGroup());
  private readonly groupPool = new Pool<IopfGroup>('iopf groups', () => new IopfGroup());
  /** The group iommu_report_device_fault keeps on its stack for when allocating one fails (abort_group). */
  private readonly abortGroup = new IopfGroup();
  /** Page requests crossing PCIe together: one group's requests arrive as one event. */
  private readonly arrivals = new SlotTable<ReusableList<PageRequest>>();
  private readonly spareArrivals: ReusableList<PageRequest>[] = [];
  /** What the scheduled steps act on, by slot: the scheduler's actions take one number (sim/scheduler.ts). */
  private readonly iommuSlots = new SlotTable<Iommu>();
  private readonly groupSlots = new SlotTable<IopfGroup>();
  private readonly responseSlots = new SlotTable<PageRequest>();
  private readonly arriveAction = (slot: number): void => this.arrive(slot);
  private readonly drainAction = (slot: number): void => this.drainQueue(this.iommuSlots.take(slot));
  private readonly endDrainAction = (slot: number): void => this.endDrainRound(this.iommuSlots.take(slot));
  private readonly dispatchAction = (slot: number): void => this.dispatch(this.groupSlots.take(slot));
  private readonly handlerAnswerAction = (slot: number): void =>
    this.handlerAnswered(this.groupSlots.take(slot));
  private readonly deliverAction = (slot: number): void =>
    this.deliverResponse(this.responseSlots.take(slot));

  constructor(
    readonly env: SimEnvironment,
    readonly livelockOptions: LivelockOptions = DEFAULT_LIVELOCK,
  ) {
    this.metrics = new FaultMetrics(env.metrics);
    this.flows = new FlowRecorder(env.bus, env.metrics, env.memory.frames);
    this.stall = new StallUnit(env, this);
  }

  connect(control: TransactionControl): void {
    this.control = control;
  }

  get transactions(): TransactionControl {
    return this.control!;
  }

  // ——— 1. A translation failed ———

  /**
   * Decides what happens to a DMA whose current page did not translate. True when a recoverable path
   * took the transaction (it now waits); false leaves it to end with an unrecoverable fault.
   */
  takeFault(transaction: Transaction, page: number, failed: Translation): boolean {
    const device = transaction.device;
    // A PRI function asks for the pages whatever the reason; the kernel sorts out what it can resolve.
    if (device.pri.enabled && !device.pri.responseFailure && device.atc !== null) {
      this.sendPageRequests(this.burstFrom(transaction, page, failed));
      return true;
    }
    if (this.stall.wouldStall(device, failed)) {
      this.stall.stallTransaction(transaction, page, failed);
      return true;
    }
    if (device.caps.managesOwnFaults && failed.domain?.type === 'sva' && isRecoverableKind(failed.fault)) {
      resolveOwnFault(this, transaction, page, failed);
      return true;
    }
    return false;
  }

  /** The device translates the rest of its work item too; every page that fails joins the burst. */
  private burstFrom(transaction: Transaction, page: number, failed: Translation): Burst {
    const { request } = transaction;
    const burst = this.burstPool
      .acquire()
      .init(transaction, request.pasid, this.env.scheduler.nowNs, transaction.refaultedAfter);
    burst.add(page, failed.faultStage, failed.stage2InputPage, failed.fault);
    const end = Math.min(request.page + transaction.pages, page + MAX_BURST_PAGES);
    const t = this.lookahead;
    for (let next = page + 1; next < end; next++) {
      const ok = translateForDevice(
        request.device,
        request.pasid,
        next,
        transaction.accessBit,
        request.privileged,
        this.env.latency,
        t,
        this.lookaheadHit,
      );
      if (!ok) burst.add(next, t.faultStage, t.stage2InputPage, t.fault);
    }
    return burst;
  }

  // ——— 2. Device: page requests within credit ———

  /** Sends a burst as one group, or parks it until credit and a PRG index are free. */
  sendPageRequests(burst: Burst): boolean {
    const device = burst.transaction.device;
    const requester = this.faultState(device).requester;
    if (!device.pri.enabled || device.pri.responseFailure) {
      this.transactions.fail(burst.transaction, 'pri-stopped', null);
      this.burstPool.release(burst);
      return true;
    }
    const credits = requester.credits(device.pri.allocation);
    const prgIndex = credits > 0 ? requester.freePrgIndex() : -1;
    if (prgIndex < 0) {
      if (!requester.waiting.includes(burst)) {
        requester.waiting.push(burst);
        burst.waited = true;
        this.metrics.creditWait(device);
        this.env.bus.emit({
          kind: 'pri.credit-wait',
          device: device.id,
          transaction: burst.transaction.id,
          waiting: requester.waiting.length,
          outstanding: requester.outstanding,
        });
      }
      return false;
    }
    if (burst.waitingSinceNs < this.env.scheduler.nowNs)
      this.metrics.creditWaited(device, this.env.scheduler.nowNs - burst.waitingSinceNs);
    // A group that does not fit the credits left is cut short, L on the last request that fits.
    const count = Math.min(burst.size, credits);
    const group = this.sentPool
      .acquire()
      .init(prgIndex, burst.pasid, count, burst.transaction, this.env.scheduler.nowNs);
    requester.sent(group);
    requester.outstanding += count;
    this.metrics.outstanding(device, requester.outstanding);
    burst.transaction.state = 'waiting';
    const perm = this.requestPerm(burst.transaction);
    const requests = this.arrivalList();
    const now = this.env.scheduler.nowNs;
    for (let i = 0; i < count; i++) {
      const kind = faultKindName(burst.kinds[i]!);
      const flow = this.flows.start(
        'pri',
        burst.transaction.id,
        device.iommu.id,
        device.id,
        burst.pasid,
        burst.pages[i]!,
        perm,
        burst.stages[i]!,
        kind,
        burst.waitingSinceNs,
        device.metricScopes,
      );
      flow.causes = burst.causes;
      if (burst.waited) flow.hop(HOP_CREDIT_WAIT, now, HOP_TO_IOMMU);
      burst.transaction.joined(flow);
      group.flows.push(flow);
      this.flows.hold(flow);
      const request = this.newRequest(
        device,
        burst.pasid,
        burst.pages[i]!,
        perm,
        prgIndex,
        (burst.pasid !== NO_PASID ? PAGE_REQUEST_PASID_VALID : 0) |
          (i === count - 1 ? PAGE_REQUEST_LAST_PAGE : 0) |
          (burst.pasid !== NO_PASID && device.caps.prgResponsePasidRequired
            ? PAGE_REQUEST_RESPONSE_NEEDS_PASID
            : 0),
        now,
        flow,
      );
      request.kind = kind;
      request.stage = burst.stages[i]!;
      request.stage2Page = burst.stage2Pages[i];
      this.metrics.pageRequest(request);
      this.emitRequest('pri.page-request', request);
      requests.push(request);
    }
    this.burstPool.release(burst);
    this.send(requests);
    return true;
  }

  /** The requests of a group leave back to back and arrive together, in order, half a round trip later. */
  private send(requests: ReusableList<PageRequest>): void {
    this.env.scheduler.after(
      this.env.latency.priRoundTripNs / 2,
      this.arriveAction,
      this.arrivals.put(requests),
    );
  }

  /** An empty list for requests to cross PCIe in, reused from an arrival before. */
  private arrivalList(): ReusableList<PageRequest> {
    return this.spareArrivals.pop() ?? new ReusableList<PageRequest>();
  }

  private arrive(slot: number): void {
    const requests = this.arrivals.take(slot);
    for (let i = 0; i < requests.size; i++) {
      const request = requests.at(i);
      this.receivePageRequest(request.device.iommu, request);
    }
    requests.clear();
    this.spareArrivals.push(requests);
  }

  /** A page request from the pool, set up whole: a fault's by default (translation, stage 1), not a Stop Marker. */
  private newRequest(
    device: Device,
    pasid: number,
    page: number,
    perm: number,
    grpid: number,
    flags: number,
    sentNs: number,
    flow: FaultFlow | null,
  ): PageRequest {
    const request = this.requestPool.acquire();
    request.seq = this.nextRequestSeq++;
    request.device = device;
    request.pasid = pasid;
    request.page = page;
    request.perm = perm;
    request.grpid = grpid;
    request.flags = flags;
    request.transport = 'pri';
    request.kind = 'translation';
    request.stage = 1;
    request.stage2Page = undefined;
    request.stopMarker = false;
    request.sentNs = sentNs;
    request.flow = flow;
    if (flow !== null) this.flows.hold(flow);
    request.responseCode = 'SUCCESS';
    return request;
  }

  /** An outstanding group answered or forgotten: its flows are no longer its to hold. */
  private reuseSent(group: OutstandingGroup): void {
    const { flows } = group;
    for (let i = 0; i < flows.size; i++) this.flows.letGo(flows.at(i));
    flows.clear();
    this.sentPool.release(group);
  }

  /** A request's life ended (answered at the device, dropped, discarded): a pooled one is reused. */
  private freeRequest(request: PageRequest): void {
    if (!request.pooled) return;
    if (request.flow !== null) this.flows.letGo(request.flow);
    request.flow = null;
    this.requestPool.release(request);
  }

  /**
   * A page request no transaction of the device stands behind (injection/page-request-injection.ts): it is
   * sent and arrives now, then goes the way of any request. Returns its sequence number.
   */
  injectPageRequest(
    device: Device,
    pasid: number,
    page: number,
    perm: number,
    grpid: number,
    flags: number,
    stopMarker: boolean,
  ): number {
    const request = this.newRequest(device, pasid, page, perm, grpid, flags, this.env.scheduler.nowNs, null);
    request.stopMarker = stopMarker;
    if (stopMarker) this.metrics.stopMarker(device);
    else this.metrics.pageRequest(request);
    this.emitRequest(stopMarker ? 'pri.stop-marker' : 'pri.page-request', request, true);
    this.receivePageRequest(device.iommu, request);
    return request.seq;
  }

  /** A Stop Marker: the device stopped using a PASID; it needs no credit and gets no response. */
  sendStopMarker(device: Device, pasid: number): void {
    if (!device.pri.enabled || device.pri.responseFailure) return;
    const flags = PAGE_REQUEST_PASID_VALID | PAGE_REQUEST_LAST_PAGE;
    const request = this.newRequest(device, pasid, 0, 0, 0, flags, this.env.scheduler.nowNs, null);
    request.stopMarker = true;
    this.metrics.stopMarker(device);
    this.emitRequest('pri.stop-marker', request);
    const requests = this.arrivalList();
    requests.push(request);
    this.send(requests);
  }

  // ——— 3. IOMMU: the hardware queue ———

  /**
   * A page request arrives at the IOMMU and waits in its page request queue. A full queue drops it and
   * sets the overflow flag; the hardware itself answers a dropped last request with Success, so the device
   * retries instead of hanging (VT-d PRS.PRO, SMMUv3 PRIQ overflow; reference §7 marks this [?]). Unless
   * those retries have become a storm that makes no progress: then the system stops (`livelocked`).
   */
  receivePageRequest(iommu: Iommu, request: PageRequest): void {
    // The rest of a group that arrived together with the request that stopped the system.
    if (this.livelock !== null) return;
    const queue = iommu.pageRequestQueue;
    const now = this.env.scheduler.nowNs;
    const { flow } = request;
    flow?.hop(HOP_TO_IOMMU, now, HOP_QUEUE_WAIT);
    if (!queue.push(request, now)) {
      this.metrics.queueOverflow(iommu, 'page-request');
      if (this.env.bus.wants('iommu.queue-overflow'))
        this.env.bus.emit({
          kind: 'iommu.queue-overflow',
          iommu: iommu.id,
          queue: queue.name,
          device: request.device.id,
          lastRequest: isLast(request),
          request: request.seq,
          flow: flow?.id ?? null,
        });
      const answered = isLast(request) && !request.stopMarker;
      const detector = this.detectorOf(iommu);
      detector.refused();
      // The place that would answer with the automatic Success is where the storm is caught.
      if (detector.check(this.figures)) this.livelocked(iommu, request);
      else if (answered) {
        detector.retried();
        this.metrics.answered(request.device, 'SUCCESS', 'queue-overflow');
        this.sendResponse(request, 'SUCCESS', 'queue-overflow', 0);
      } else {
        if (flow !== null) this.endFlow(flow, 'dropped', NO_HOP);
        this.freeRequest(request);
      }
      return;
    }
    if (this.recordsFlow(flow)) flow.addRecord(now, queueEntryOf(request));
    this.kickDriver(iommu);
  }

  /**
   * The overflow storm passed its bound: the fault path records it (event and metric) and stops the
   * system, so a run ends instead of spinning; the request that tripped it gets no answer.
   */
  private livelocked(iommu: Iommu, request: PageRequest): void {
    const atNs = this.env.scheduler.nowNs;
    const queue = iommu.pageRequestQueue.name;
    this.livelock = { iommu: iommu.id, queue, atNs, ...this.figures };
    this.metrics.livelock(iommu);
    this.env.bus.emit({
      kind: 'fault.livelock',
      iommu: iommu.id,
      queue,
      device: request.device.id,
      flow: request.flow?.id ?? null,
      ...this.figures,
    });
    this.env.scheduler.stop();
  }

  private detectorOf(iommu: Iommu): LivelockDetector {
    let detector = this.detectors.get(iommu);
    if (detector === undefined)
      this.detectors.set(
        iommu,
        (detector = new LivelockDetector(this.livelockOptions.bound, iommu.pageRequestQueue)),
      );
    return detector;
  }

  /** Wakes the IOMMU driver's queue thread if it is idle. */
  kickDriver(iommu: Iommu): void {
    if (iommu.driverBusy) return;
    iommu.driverBusy = true;
    this.env.scheduler.after(this.env.latency.queueServiceNs, this.drainAction, this.iommuSlots.put(iommu));
  }

  // ——— 4. Driver thread: one entry per queueServiceNs ———

  /**
   * The thread reads every entry already queued, page requests first, one per queueServiceNs (entry i
   * takes effect i × queueServiceNs from now); entries that arrive meanwhile wait for its next round.
   */
  private drainQueue(iommu: Iommu): void {
    const service = this.env.latency.queueServiceNs;
    const now = this.env.scheduler.nowNs;
    const detector = this.detectorOf(iommu);
    detector.batchBegins();
    let offsetNs = 0;
    for (let left = iommu.pageRequestQueue.length; left > 0; left--, offsetNs += service) {
      const request = iommu.pageRequestQueue.shift(now + offsetNs)!;
      request.flow?.hop(HOP_QUEUE_WAIT, now + offsetNs, HOP_GROUP_WAIT);
      const verdict = iommu.model.intake(request, iommu.profile);
      if (verdict === 'report') this.report(request, offsetNs);
      else if (verdict !== 'drop' && isLast(request)) {
        detector.progressed(1);
        this.metrics.answered(request.device, 'INVALID', verdict);
        this.sendResponse(request, 'INVALID', verdict, offsetNs + this.env.latency.responseNs);
      } else if (request.flow !== null) this.endFlow(request.flow, 'dropped', NO_HOP);
      if (verdict === 'drop' && this.env.bus.wants('pri.stop-marker-dropped'))
        this.env.bus.emit({
          kind: 'pri.stop-marker-dropped',
          iommu: iommu.id,
          device: request.device.id,
          pasid: request.pasid,
          records: [queueEntryOf(request)],
        });
      // Neither reported nor answered: its life ends here.
      if (verdict === 'drop' || (verdict !== 'report' && !isLast(request))) this.freeRequest(request);
    }
    for (let left = iommu.faultQueue.length; left > 0; left--, offsetNs += service)
      this.stall.drainOne(iommu, offsetNs);
    this.env.scheduler.after(Math.max(offsetNs, service), this.endDrainAction, this.iommuSlots.put(iommu));
  }

  private endDrainRound(iommu: Iommu): void {
    if (iommu.pageRequestQueue.length > 0 || iommu.faultQueue.length > 0) {
      this.drainQueue(iommu);
      return;
    }
    iommu.driverBusy = false;
    // Once drained after an overflow: iopf_queue_discard_partial, then clear the overflow flag (§7).
    if (iommu.pageRequestQueue.overflow) {
      const discarded: PageRequest[] = [];
      for (const device of iommu.devices.values()) {
        const state = this.faultState(device);
        for (const partial of state.partial) discarded.push(partial);
        state.partial.length = 0;
      }
      iommu.pageRequestQueue.clearOverflow();
      this.detectorOf(iommu).discarded(discarded.length);
      this.discardPartials(discarded);
      this.env.bus.emit({
        kind: 'iommu.partials-discarded',
        iommu: iommu.id,
        requests: discarded.map((request) => request.seq),
        flows: flowIds(discarded),
      });
      for (const request of discarded) this.freeRequest(request);
    }
    iommu.faultQueue.clearOverflow();
  }

  // ——— 5. iopf core: iommu_report_device_fault ———

  /**
   * io-pgfault.c, in order: no handler → INVALID at once (for this request, even a partial one);
   * not last → kept as partial, no response; last → the partials with the same PRG index (PASID not
   * compared) join it as one group, which goes to the handler; a handler that refuses → FAILURE.
   */
  report(request: PageRequest, offsetNs = 0): void {
    const device = request.device;
    // What the driver hands iommu_report_device_fault for this request, whatever the core makes of it.
    if (this.recordsFlow(request.flow))
      request.flow.addRecord(this.env.scheduler.nowNs + offsetNs, iommuFaultOf(request));
    const found = findFaultHandler(device, request, this.found);
    this.metrics.reported(device, request, found.category);
    if (found.handler === null) {
      if (request.transport === 'pri') this.detectorOf(device.iommu).progressed(1);
      this.metrics.answered(device, 'INVALID', found.cause);
      this.answerRequest(request, 'INVALID', found.cause, offsetNs + this.env.latency.responseNs);
      return;
    }
    const state = this.faultState(device);
    if (!isLast(request)) {
      state.partial.push(request);
      return;
    }
    // kzalloc of the struct iopf_group: the one allocation of a fault fail-nth 'group' can make fail.
    if (!this.env.failNth.allocates(FAIL_GROUP)) {
      this.groupAllocFailed(request, found, offsetNs);
      return;
    }
    const builtNs = this.env.scheduler.nowNs + offsetNs;
    const group = this.groupPool
      .acquire()
      .init(this.nextGroupId++, device, found.domain, found.category, builtNs);
    group.handler = found.handler;
    const { faults } = group;
    takePartials(state.partial, request.grpid, faults);
    faults.push(request);
    if (request.transport === 'pri') this.detectorOf(device.iommu).progressed(faults.size);
    for (let i = 0; i < faults.size; i++) {
      const fault = faults.at(i);
      const { flow } = fault;
      if (flow === null) continue;
      // The last request completes the group; the partials waited for it.
      if (fault === request) flow.waitingFor = HOP_DISPATCH;
      else flow.hop(HOP_GROUP_WAIT, builtNs, HOP_DISPATCH);
      flow.group = group.id;
      flow.category = group.category;
      flow.handler = found.handler.type;
    }
    state.addPending(group);
    this.metrics.group(group);
    if (this.env.bus.wants('fault.group')) {
      const requests = faults.toArray();
      this.env.bus.emit({
        kind: 'fault.group',
        group: group.id,
        requests: requests.map((fault) => fault.seq),
        flows: flowIds(requests),
        iommu: device.iommu.id,
        device: device.id,
        pasid: group.pasid === NO_PASID ? null : group.pasid,
        grpid: request.grpid,
        transport: request.transport,
        faults: faults.size,
        addresses: requests.map((fault) => formatAddress(fault.page)),
        category: group.category,
        stage: group.stage,
        domain: group.domain?.id ?? null,
        handler: found.handler.type,
        records: requests.flatMap((fault) => [queueEntryOf(fault), iommuFaultOf(fault)]),
      });
    }
    // The handler runs from a workqueue: it starts after the dispatch latency.
    group.holds++;
    this.env.scheduler.after(
      offsetNs + this.env.latency.iopfDispatchNs,
      this.dispatchAction,
      this.groupSlots.put(group),
    );
  }

  /**
   * The struct iopf_group of a last request could not be allocated (fail-nth 'group'). Either way the
   * partials of its PRG index leave the device's list, so that none is stuck, and the request is answered
   * at once; no handler sees it:
   * - abort-group (v6.9 on): iommu_report_device_fault takes the group on its stack instead, partials
   *   included, and answers it FAILURE through iopf_group_response, as one group;
   * - driver-answers (v5.13): iommu_queue_iopf frees the partials (cleanup_partial) and returns -ENOMEM,
   *   and the driver answers the last request alone, as its family answers a report that failed.
   */
  private groupAllocFailed(request: PageRequest, found: FoundHandler, offsetNs: number): void {
    const { device } = request;
    const builtNs = this.env.scheduler.nowNs + offsetNs;
    const group = this.abortGroup.init(this.nextGroupId++, device, found.domain, found.category, builtNs);
    const { faults } = group;
    takePartials(this.faultState(device).partial, request.grpid, faults);
    const partials = faults.size;
    faults.push(request);
    if (request.transport === 'pri') this.detectorOf(device.iommu).progressed(faults.size);
    const cause = 'group-alloc-failed';
    const delayNs = offsetNs + this.env.latency.responseNs;
    if (device.iommu.profile.groupAllocFailure === 'abort-group') {
      for (let i = 0; i < faults.size; i++) {
        const { flow } = faults.at(i);
        if (flow === null) continue;
        flow.group = group.id;
        flow.code = 'FAILURE';
        flow.cause = cause;
        // The last request is answered as it is read; its partials waited for it until then.
        if (i < partials) flow.hop(HOP_GROUP_WAIT, builtNs, HOP_RESPONSE_WRITE);
        else flow.waitingFor = HOP_RESPONSE_WRITE;
      }
      this.metrics.answered(device, 'FAILURE', cause);
      this.answerRequest(request, 'FAILURE', cause, delayNs, group);
    } else {
      const code = device.iommu.model.failedReportResponse;
      this.discardPartials(faults.toArray().slice(0, partials));
      this.metrics.answered(device, code, cause);
      this.answerRequest(request, code, cause, delayNs);
    }
    // __iopf_free_group / cleanup_partial: the partials are freed; the last lives until its answer arrives.
    for (let i = 0; i < partials; i++) this.freeRequest(faults.at(i));
    faults.clear();
    group.domain = null;
  }

  /** The workqueue runs the group's handler, unless the group was answered meanwhile (a flush). */
  private dispatch(group: IopfGroup): void {
    group.holds--;
    if (!group.pending) {
      this.reuseIfDone(group);
      return;
    }
    const handling = answeredOutside(group.handler!.type) ? HOP_CLIENT_WAIT : HOP_HANDLER;
    const now = this.env.scheduler.nowNs;
    for (let i = 0; i < group.faults.size; i++) group.faults.at(i).flow?.hop(HOP_DISPATCH, now, handling);
    // The group's own handler: `found` is a scratch record reused by the next report.
    if (!group.handler!.handle(group, this))
      this.respond(group, 'FAILURE', 'handler-refused', this.env.latency.responseNs);
  }

  // ——— HandlerContext ———

  respondAfter(group: IopfGroup, code: ResponseCode, costNs: number): void {
    group.handlerCode = code;
    group.holds++;
    this.env.scheduler.after(costNs, this.handlerAnswerAction, this.groupSlots.put(group));
  }

  /** The handler's cost has passed: its answer goes out, if nothing answered the group first. */
  private handlerAnswered(group: IopfGroup): void {
    group.holds--;
    if (group.pending) this.respond(group, group.handlerCode, 'handler', this.env.latency.responseNs);
    else this.reuseIfDone(group);
  }

  /**
   * A group answered and named by no scheduled action is done: it and its partial requests are reused (its
   * last request lives on until its response reaches the device).
   */
  private reuseIfDone(group: IopfGroup): void {
    if (group.pending || group.holds > 0) return;
    const { faults } = group;
    for (let i = 0; i < faults.size - 1; i++) this.freeRequest(faults.at(i));
    faults.clear();
    group.handler = null;
    group.domain = null;
    group.costs = null;
    this.groupPool.release(group);
  }

  awaitClient(group: IopfGroup, timeoutNs: number, timeoutResponse: ResponseCode): void {
    group.cookie = this.nextCookie++;
    this.awaitingClient.set(group.cookie, group);
    group.timeout = this.env.scheduler.after(timeoutNs, () =>
      this.respond(group, timeoutResponse, 'timeout', this.env.latency.responseNs),
    );
    this.env.bus.emit({
      kind: 'fault.awaiting-client',
      cookie: group.cookie,
      group: group.id,
      flows: flowIds(group.faults.toArray()),
      device: group.device.id,
      pasid: group.pasid === NO_PASID ? null : group.pasid,
      category: group.category,
      stage: group.stage,
      faults: group.faults.toArray().map((fault) => ({
        address: formatAddress(fault.page),
        perm: formatProt(fault.perm),
        stage2Address: fault.stage2Page === undefined ? null : formatAddress(fault.stage2Page),
      })),
      deadlineNs: this.env.scheduler.nowNs + timeoutNs,
    });
  }

  answer(group: IopfGroup, code: ResponseCode): void {
    this.respond(group, code, 'handler', this.env.latency.responseNs);
  }

  /** An outside client answers a group by cookie (iommufd write: an unknown cookie is -EINVAL). */
  answerFromClient(cookie: number, code: ResponseCode): void {
    const group = this.awaitingClient.get(cookie);
    if (!group)
      fail('EINVAL', `no page request group is waiting with cookie ${cookie}.`, { reason: 'unknown-cookie' });
    const handler = group.handler;
    if (handler instanceof ExternalFaultHandler && !handler.allowedCodes.includes(code)) {
      fail(
        'EINVAL',
        `response ${code} is not one of ${handler.allowedCodes.join(', ')} for this handler (iommufd has no FAILURE).`,
        {
          reason: 'bad-response-code',
        },
      );
    }
    this.respond(group, code, 'handler', this.env.latency.responseNs);
  }

  // ——— 6. Response: exactly once per group ———

  /** iopf_group_response: answers a pending group once; a group no longer pending is left alone. */
  respond(group: IopfGroup, code: ResponseCode, cause: ResponseCause, delayNs: number): void {
    if (!group.pending) return;
    group.pending = false;
    group.response = code;
    this.faultState(group.device).removePending(group);
    if (group.cookie !== null) this.awaitingClient.delete(group.cookie);
    if (group.timeout !== null) this.env.scheduler.cancel(group.timeout);
    this.metrics.groupAnswered(group, code, cause, this.env.scheduler.nowNs);
    const now = this.env.scheduler.nowNs;
    for (let i = 0; i < group.faults.size; i++) {
      const { flow } = group.faults.at(i);
      if (flow === null) continue;
      flow.code = code;
      flow.cause = cause;
      flow.setHandlerCosts(group.costs);
      // A timeout ends the client's wait as its own hop; a flush ends whatever the group was in.
      const hop = cause === 'timeout' && flow.waitingFor === HOP_CLIENT_WAIT ? HOP_TIMEOUT : flow.waitingFor;
      flow.hop(hop, now, HOP_RESPONSE_WRITE);
    }
    this.answerRequest(group.last, code, cause, delayNs, group);
    this.reuseIfDone(group);
  }

  // ——— HandlerContext: pages resolved and taken away, for the flows that replace earlier ones ———

  pageResolved(request: PageRequest, space: object, page: number, pfn: number): void {
    if (request.flow !== null) this.flows.resolved(request.flow, space, page, pfn);
  }

  pageGone(space: object, page: number, flow: number | null, because: PageGone): void {
    this.flows.pageGone(space, page, flow, because);
  }

  /** A response for one request, by the way it came: a PRG response, or CMD_RESUME for a stall. */
  private answerRequest(
    request: PageRequest,
    code: ResponseCode,
    cause: ResponseCause,
    delayNs: number,
    group: IopfGroup | null = null,
  ): void {
    if (group === null && request.flow !== null) {
      // Answered on its own (no handler, a bad request): the driver answers as it reads it.
      request.flow.code = code;
      request.flow.cause = cause;
      request.flow.waitingFor = HOP_RESPONSE_WRITE;
    }
    if (request.transport === 'stall') this.stall.resume(request, code, cause, delayNs);
    else this.sendResponse(request, code, cause, delayNs, group);
  }

  /**
   * page_response for one PRI request: the family encodes it (VT-d page group response, SMMUv3
   * CMD_PRI_RESP) and the message reaches the device half a PRI round trip later.
   */
  sendResponse(
    request: PageRequest,
    code: ResponseCode,
    cause: ResponseCause | 'queue-overflow',
    delayNs: number,
    group: IopfGroup | null = null,
  ): void {
    const device = request.device;
    const wire = device.iommu.model.wireResponse(code);
    this.metrics.response(device, code);
    const sentNs = this.env.scheduler.nowNs + delayNs;
    const overflow = cause === 'queue-overflow';
    if (group !== null) {
      for (let i = 0; i < group.faults.size; i++)
        group.faults.at(i).flow?.hop(HOP_RESPONSE_WRITE, sentNs, HOP_TO_DEVICE);
    } else if (request.flow !== null) {
      if (overflow) {
        // The IOMMU answers a dropped last request itself: no driver, no response descriptor (§7).
        request.flow.code = code;
        request.flow.cause = cause;
        request.flow.waitingFor = HOP_OVERFLOW_RESPONSE;
      } else {
        request.flow.code = code;
        request.flow.cause = cause;
        request.flow.hop(HOP_RESPONSE_WRITE, sentNs, HOP_TO_DEVICE);
      }
    }
    const toEvent = this.env.bus.wants('fault.response');
    const written =
      toEvent || this.env.bus.wants('flow.ended') ? responseRecords(request, code, cause) : null;
    if (written !== null && written.length > 0 && this.env.bus.wants('flow.ended')) {
      // Written as the response-write hop begins; every flow the response answers lists it.
      const atNs = Math.max(this.env.scheduler.nowNs, sentNs - this.env.latency.responseNs);
      if (group !== null)
        for (let i = 0; i < group.faults.size; i++) addRecords(group.faults.at(i).flow, atNs, written);
      else addRecords(request.flow, atNs, written);
    }
    if (toEvent) {
      this.env.bus.emit({
        kind: 'fault.response',
        iommu: device.iommu.id,
        device: device.id,
        pasid: request.pasid === NO_PASID ? null : request.pasid,
        grpid: request.grpid,
        code,
        wireCode: wire.code,
        wireName: wire.name,
        cause,
        request: request.seq,
        group: group?.id ?? null,
        flows: group !== null ? flowIds(group.faults.toArray()) : request.flow ? [request.flow.id] : [],
        // A driver answering straight from the queue names the entry it answers.
        records: answeredFromQueue(cause) ? [queueEntryOf(request), ...written!] : written!,
      });
    }
    // After a function reset the device has forgotten its requests; the answer is not sent to it.
    if (cause === 'reset') {
      if (group !== null)
        for (let i = 0; i < group.faults.size; i++) this.endFlowIf(group.faults.at(i).flow, 'aborted');
      else this.endFlowIf(request.flow, 'aborted');
      this.freeRequest(request);
      return;
    }
    request.responseCode = code;
    this.env.scheduler.after(
      delayNs + this.env.latency.priRoundTripNs / 2,
      this.deliverAction,
      this.responseSlots.put(request),
    );
  }

  // ——— 7. Device: the PRG response ———

  /** The response message reaches the device; the request it answers has lived its life. */
  private deliverResponse(request: PageRequest): void {
    const { device } = request;
    this.receiveResponse(device, request, device.iommu.model.wireResponse(request.responseCode));
    this.freeRequest(request);
  }

  private receiveResponse(device: Device, request: PageRequest, wire: WireResponse): void {
    const requester = this.faultState(device).requester;
    const group = requester.group(request.grpid);
    if (group === undefined || group.pasid !== request.pasid) {
      // Status UPRGI: a response for a PRG index that is not outstanding is noted and ignored (§5).
      device.pri.unexpectedPrgIndex = true;
      this.metrics.unexpectedResponse(device);
      if (this.env.bus.wants('pri.unexpected-response'))
        this.env.bus.emit({
          kind: 'pri.unexpected-response',
          device: device.id,
          prgIndex: request.grpid,
          records: [prgResponseMessage(request, request.responseCode)],
        });
      return;
    }
    requester.answered(group);
    requester.outstanding -= group.requests;
    this.metrics.outstanding(device, requester.outstanding);
    const now = this.env.scheduler.nowNs;
    const { flows } = group;
    for (let i = 0; i < flows.size; i++) {
      const flow = flows.at(i);
      // A request whose answer this is; one still held in the kernel (a partial whose last request
      // overflowed) is freed with its group's answer and never answered itself.
      if (flow.waitingFor === HOP_TO_DEVICE || flow.waitingFor === HOP_OVERFLOW_RESPONSE)
        flow.hop(flow.waitingFor, now, HOP_RETRANSLATE);
      else this.endFlow(flow, 'discarded', flow.waitingFor, now);
    }
    const toEvent = this.env.bus.wants('pri.response');
    if (toEvent || this.env.bus.wants('flow.ended')) {
      const message = prgResponseMessage(request, request.responseCode);
      if (this.env.bus.wants('flow.ended'))
        for (let i = 0; i < flows.size; i++) flows.at(i).addRecord(now, message);
      if (toEvent)
        this.env.bus.emit({
          kind: 'pri.response',
          device: device.id,
          prgIndex: request.grpid,
          response: wire.device,
          requests: group.requests,
          flows: flows.toArray().map((flow) => flow.id),
          records: [message],
        });
    }
    if (wire.device === 'Success') {
      // Pages resident: the device re-issues ATS translation requests (it may fault again).
      this.transactions.retry(group.transaction, 0, flows);
    } else {
      for (let i = 0; i < flows.size; i++) this.endFlow(flows.at(i), 'failed', NO_HOP);
      // Response Failure is catastrophic: RF set, no more page requests until the function is reset.
      if (wire.device === 'Response Failure') device.pri.responseFailure = true;
      const error = wire.device === 'Response Failure' ? 'response-failure' : 'page-request-invalid';
      this.transactions.fail(group.transaction, error, null);
    }
    this.reuseSent(group);
    this.sendWaitingBursts(device);
  }

  // ——— Flows ———

  /** Ends a flow; `closing` names the hop it was in when something else ended it (NO_HOP: none). */
  endFlow(flow: FaultFlow, outcome: FlowOutcome, closing: number, atNs = this.env.scheduler.nowNs): void {
    if (flow.ended) return;
    if (closing === NO_HOP) {
      flow.waitingFor = NO_HOP;
      this.flows.end(flow, outcome);
    } else {
      flow.waitingFor = closing;
      this.flows.endAt(flow, atNs, outcome);
    }
  }

  /** Ends a flow that is still open, closing the hop it is in at now. */
  endFlowIf(flow: FaultFlow | null, outcome: FlowOutcome): void {
    if (flow !== null && !flow.ended) this.endFlow(flow, outcome, flow.waitingFor);
  }

  /** Partials freed without an answer: their flows end, discarded, while waiting for their group. */
  private discardPartials(requests: readonly PageRequest[]): void {
    for (const request of requests) this.endFlowIf(request.flow, 'discarded');
  }

  /** Credits came back: bursts that were waiting go out in order, as far as credit allows. */
  private sendWaitingBursts(device: Device): void {
    const waiting = this.faultState(device).requester.waiting;
    while (waiting.length > 0) {
      // Sent, the burst is reused at once: it leaves the list before anything else reads it.
      if (!this.sendPageRequests(waiting[0]!)) return;
      waiting.shift();
    }
  }

  // ——— Unrecoverable faults through the fault queue ———

  /**
   * Records an unrecoverable fault: the IOMMU writes it to its fault queue (VT-d fault recording
   * registers, SMMUv3 event queue); a full queue loses it (PFO / "events lost").
   */
  recordUnrecoverable(
    transaction: Transaction,
    page: number,
    inPage: number,
    failed: Translation,
  ): FaultRecord {
    const { request } = transaction;
    const { iommu } = request.device;
    const lost = iommu.faultQueue.length >= iommu.faultQueue.depth;
    const now = this.env.scheduler.nowNs;
    const flow = this.flows.start(
      'unrecoverable',
      transaction.id,
      iommu.id,
      request.device.id,
      request.pasid,
      page,
      this.requestPerm(transaction),
      failed.fault >= FAULT_ADDRESS_SIZE ? failed.faultStage : null,
      faultKindName(failed.fault),
      now,
      request.device.metricScopes,
    );
    flow.causes = transaction.refaultedAfter;
    transaction.joined(flow);
    const record = iommu.recordFault(
      request.device,
      request.pasid,
      page,
      inPage,
      request.access,
      request.privileged,
      failed,
      transaction.id,
      flow.id,
      lost,
    );
    flow.code = record.codeName;
    flow.reason = record.reason;
    flow.cause = record.fault;
    if (this.recordsFlow(flow)) {
      const written = iommu.model.faultRecord(record);
      if (written !== null) flow.addRecord(now, written);
    }
    if (lost) {
      iommu.faultQueue.push({ type: 'record', record, device: request.device, flow }, now); // refused: sets the overflow flag
      this.metrics.queueOverflow(iommu, 'fault');
      this.env.bus.emit({
        kind: 'iommu.queue-overflow',
        iommu: iommu.id,
        queue: iommu.faultQueue.name,
        device: request.device.id,
        lastRequest: false,
        request: null,
        flow: flow.id,
      });
    }
    if (record.recorded) {
      iommu.faultQueue.push({ type: 'record', record, device: request.device, flow }, now);
      flow.waitingFor = HOP_QUEUE_WAIT;
      this.kickDriver(iommu);
    } else this.endFlow(flow, 'lost', NO_HOP);
    return record;
  }

  /**
   * The driver read an unrecoverable record. Profiles with unrecoverable reports hand it to the device's
   * registered handler (iommu_report_device_fault with IOMMU_FAULT_DMA_UNRECOV, uapi 5.3–6.7); an outside
   * handler sees it, the kernel's SVA handler ignores it. Everywhere it is also logged (dmar_fault,
   * the SMMUv3 event dump).
   */
  reportUnrecoverable(record: FaultRecord, device: Device, flow: FaultFlow, readNs: number): void {
    flow.hop(HOP_QUEUE_WAIT, readNs, NO_HOP);
    this.endFlow(flow, 'recorded', NO_HOP);
    const { profile } = device.iommu;
    let handler: FaultHandler | undefined;
    if (profile.unrecoverableReports) {
      const domain = record.pasid === null ? device.ridDomain : device.pasidDomains.get(record.pasid);
      const category = faultCategory(domain ?? null, record.stage ?? 1);
      handler = device.faultHandlers.get('*') ?? (category ? device.faultHandlers.get(category) : undefined);
    }
    this.env.bus.emit({
      kind: 'fault.reported',
      flow: flow.id,
      device: device.id,
      transaction: record.transaction,
      fault: record.fault,
      codeName: record.codeName,
      linuxReason: record.linuxReason,
      handler: handler?.type ?? null,
      delivered: handler != null && answeredOutside(handler.type),
    });
  }

  // ——— Flushes: detach, reset ———

  /**
   * An attachment of `domain` went away: its pending faults get INVALID, and unless another domain
   * replaced it, a PRI device stops using the PASID (Stop Marker).
   */
  detached(device: Device, pasid: number | null, domain: Domain, replaced: boolean): void {
    if (pasid !== null && !replaced) this.sendStopMarker(device, pasid);
    this.flushDevice(device, pasid, 'detach', domain);
  }

  /**
   * Answers INVALID to pending groups of the device and drops its partials: on reset every one
   * (iopf_queue_remove_device); on a detach or replace those of that attachment, the groups its domain
   * took and the requests of the PASID (or, at the requester ID, of no PASID with a domain of its own),
   * as iommufd_auto_response_faults answers the groups of one attach handle (reference §2, §4).
   */
  flushDevice(device: Device, pasid: number | null, cause: 'detach' | 'reset', domain?: Domain): void {
    const state = this.faultState(device);
    const ofAttachment = (requestPasid: number): boolean =>
      pasid === null
        ? domain === undefined || requestPasid === NO_PASID || !device.pasidDomains.has(requestPasid)
        : requestPasid === pasid;
    const dropped = state.partial.filter((request) => ofAttachment(request.pasid));
    if (dropped.length > 0) {
      // Partials are freed without a response; their group is answered through its last request.
      state.partial = state.partial.filter((request) => !dropped.includes(request));
      this.discardPartials(dropped);
      this.env.bus.emit({
        kind: 'fault.partials-dropped',
        device: device.id,
        pasid,
        requests: dropped.map((request) => request.seq),
        flows: flowIds(dropped),
        cause,
      });
      for (const request of dropped) this.freeRequest(request);
    }
    for (const group of state.pendingInOrder()) {
      const ofDomain = domain === undefined || group.domain === null || group.domain === domain;
      if (ofDomain && ofAttachment(group.pasid)) this.respond(group, 'INVALID', cause, 0);
    }
    this.stall.flushDevice(device, pasid);
  }

  /** Function-level reset of the device side: outstanding PRGs and waiting bursts forgotten (the DMA engine aborts their transactions). */
  resetDevice(device: Device): void {
    this.flushDevice(device, null, 'reset');
    this.faultState(device).requester.reset((forgotten) => {
      if (forgotten instanceof Burst) this.burstPool.release(forgotten);
      else this.reuseSent(forgotten);
    });
    this.metrics.outstanding(device, 0);
  }

  /** The fault path's pools: objects in use now and made in all (tests check reuse and that nothing leaks). */
  poolUse(): Record<string, { inUse: number; size: number }> {
    const use: Record<string, { inUse: number; size: number }> = {};
    for (const pool of [this.requestPool, this.burstPool, this.sentPool, this.groupPool])
      use[pool.name] = { inUse: pool.inUse, size: pool.size };
    use['fault flows'] = this.flows.poolUse;
    return use;
  }

  faultState(device: Device): DeviceFaultState {
    return (device.faultState ??= new DeviceFaultState(new PriRequester()));
  }

  /** Page request permissions of the transaction's access (an exec request also reads, §5). */
  private requestPerm(transaction: Transaction): number {
    const { access, privileged } = transaction.request;
    const perm = access === 'exec' ? PERM_EXEC | PERM_READ : transaction.accessBit;
    return privileged ? perm | PERM_PRIV : perm;
  }

  private emitRequest(
    kind: 'pri.page-request' | 'pri.stop-marker',
    request: PageRequest,
    injected = false,
  ): void {
    const toEvent = this.env.bus.wants(kind);
    if (!toEvent && !this.recordsFlow(request.flow)) return;
    const message = pageRequestMessage(request);
    request.flow?.addRecord(this.env.scheduler.nowNs, message);
    if (!toEvent) return;
    const event: EventInput<typeof kind> = {
      kind,
      request: request.seq,
      flow: request.flow?.id ?? null,
      device: request.device.id,
      pasid: request.pasid === NO_PASID ? null : request.pasid,
      address: formatAddress(request.page),
      perm: formatProt(request.perm),
      prgIndex: request.grpid,
      last: isLast(request),
      stage: request.stage,
      records: [message],
    };
    // Only an injected request has the field: a device's own events are as they always were.
    if (injected) event.injected = true;
    this.env.bus.emit(event);
  }

  /**
   * Whether a flow keeps the records of its steps: only while someone listens to ended flows, whose
   * anatomy lists them (a flow's `addRecord` is then called where each record is written).
   */
  private recordsFlow(flow: FaultFlow | null): flow is FaultFlow {
    return flow !== null && this.env.bus.wants('flow.ended');
  }
}

/** The partials of a PRG index leave the device's list for a group, in place and in order (PASID not compared). */
function takePartials(partial: PageRequest[], grpid: number, into: ReusableList<PageRequest>): void {
  let kept = 0;
  for (let i = 0; i < partial.length; i++) {
    const candidate = partial[i]!;
    if (candidate.grpid === grpid) into.push(candidate);
    else partial[kept++] = candidate;
  }
  partial.length = kept;
}

/** Causes where the driver answers from the queue entry itself, before the iopf core (a malformed or denied request). */
function answeredFromQueue(cause: ResponseCause | 'queue-overflow'): boolean {
  return cause === 'bad-request' || cause === 'pri-denied';
}

/**
 * What a response writes: nothing when the IOMMU answered an overflow itself; the response command alone
 * when the driver answered from the queue; struct iommu_page_response and then the command when the iopf
 * core answered.
 */
function responseRecords(
  request: PageRequest,
  code: ResponseCode,
  cause: ResponseCause | 'queue-overflow',
): CarriedRecord[] {
  if (cause === 'queue-overflow') return [];
  const command = responseCommandOf(request, code);
  return answeredFromQueue(cause) ? [command] : [pageResponseOf(request, code), command];
}

function addRecords(flow: FaultFlow | null, atNs: number, records: readonly CarriedRecord[]): void {
  if (flow !== null) for (const record of records) flow.addRecord(atNs, record);
}
