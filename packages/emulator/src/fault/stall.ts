/**
 * SMMUv3 stall (reference §6, §10.2), on a family that stalls (IommuFamilyModel.stalls): a
 * translation-related fault (F_TRANSLATION, F_ADDR_SIZE, F_ACCESS, F_PERMISSION) of a master with stalling
 * configured for that stage holds the transaction in the SMMU and records an event with Stall=1 and a stall
 * tag (STAG). The driver turns the event into a page request (LAST_PAGE, grpid = STAG, READ if RnW else
 * WRITE, +EXEC if InD, +PRIV if PnU); the response goes back as CMD_RESUME: SUCCESS → RETRY (re-walk, which
 * may stall again), INVALID or FAILURE → ABORT (an error to the device). Stage 1 stalls with CD.S; stage 2
 * only with STE.S2S, which only the proposal's stage-2 fault handling sets. When the event queue is full the
 * stall cannot be reported, so the transaction is terminated [?: modelling assumption].
 */
import { formatAddress } from '../address';
import type { Device } from '../device/device';
import { NO_PASID } from '../domain/domain';
import type { Transaction } from '../dma/transaction';
import { faultKindName } from '../iommu/fault-kind';
import type { FaultRecord } from '../iommu/fault-record';
import type { Iommu } from '../iommu/iommu';
import { isStallableKind } from '../iommu/stallable-fault-kinds';
import type { Translation } from '../iommu/translation';
import { PERM_EXEC, PERM_PRIV, PERM_READ, PERM_WRITE } from '../pagetable/permissions';
import type { SimEnvironment } from '../sim/environment';
import {
  type FaultFlow,
  HOP_QUEUE_WAIT,
  HOP_RESUME,
  HOP_RESPONSE_WRITE,
  HOP_RETRANSLATE,
  NO_HOP,
} from '../flow/fault-flow';
import type { FaultPath } from './fault-path';
import { pageResponseOf, queueEntryOf, responseCommandOf } from './fault-records';
import type { ResponseCause } from './iopf-group';
import { listOf } from '../sim/pool';
import {
  PAGE_REQUEST_LAST_PAGE,
  PAGE_REQUEST_PASID_VALID,
  type PageRequest,
  type ResponseCode,
} from './page-request';

/** Stall tags are 16 bits. */
const STAG_SPACE = 2 ** 16;

export interface StalledTransaction {
  stag: number;
  transaction: Transaction;
  page: number;
  stage: 1 | 2;
  stage2Page: number | undefined;
  kind: number;
  /** The driver turned its event into a page request. */
  reported: boolean;
  /** Its fault flow, alone in a list: the retry after CMD_RESUME ends it. */
  flows: readonly [FaultFlow];
}

/** An entry of the SMMUv3 event queue / VT-d fault recording: a stall event or an unrecoverable record. */
export type FaultQueueEntry =
  | { type: 'stall'; stalled: StalledTransaction }
  | { type: 'record'; record: FaultRecord; device: Device; flow: FaultFlow };

export class StallUnit {
  constructor(
    private readonly env: SimEnvironment,
    private readonly path: FaultPath,
  ) {}

  wouldStall(device: Device, failed: Translation): boolean {
    const { iommu } = device;
    return (
      iommu.model.stalls &&
      iommu.caps.stall &&
      device.stallEnabled &&
      isStallableKind(failed.fault) &&
      (failed.faultStage === 1 || iommu.profile.stage2FaultsHandled)
    );
  }

  stallTransaction(transaction: Transaction, page: number, failed: Translation): void {
    const { iommu } = transaction.device;
    const stag = this.allocateTag(iommu);
    const { request } = transaction;
    const flow = this.path.flows.start(
      'stall',
      transaction.id,
      iommu.id,
      transaction.device.id,
      request.pasid,
      page,
      stallPerm(transaction),
      failed.faultStage,
      faultKindName(failed.fault),
      this.env.scheduler.nowNs,
      transaction.device.metricScopes,
    );
    flow.causes = transaction.refaultedAfter;
    flow.waitingFor = HOP_QUEUE_WAIT;
    transaction.joined(flow);
    const stalled: StalledTransaction = {
      stag,
      transaction,
      page,
      stage: failed.faultStage,
      stage2Page: failed.stage2InputPage,
      kind: failed.fault,
      reported: false,
      flows: [flow],
    };
    transaction.state = 'waiting';
    if (!iommu.faultQueue.push({ type: 'stall', stalled }, this.env.scheduler.nowNs)) {
      this.path.metrics.queueOverflow(iommu, 'fault');
      this.env.bus.emit({
        kind: 'iommu.queue-overflow',
        iommu: iommu.id,
        queue: iommu.faultQueue.name,
        device: transaction.device.id,
        lastRequest: true,
        request: null,
        flow: flow.id,
      });
      // The stall cannot be reported: terminated at once, a flow without hops.
      this.path.endFlow(flow, 'dropped', NO_HOP);
      this.path.transactions.fail(transaction, 'stall-terminated', null);
      return;
    }
    iommu.stalled.set(stag, stalled);
    this.path.metrics.stalled(transaction.device);
    const toEvent = this.env.bus.wants('stall.stalled');
    const toFlow = this.env.bus.wants('flow.ended');
    // The event record the SMMU writes for the stall, with Stall=1 and the tag the driver resumes by.
    const record =
      toEvent || toFlow ? queueEntryOf(stallRequest(stalled, flow, this.env.scheduler.nowNs)) : null;
    if (toFlow) flow.addRecord(this.env.scheduler.nowNs, record!);
    if (toEvent)
      this.env.bus.emit({
        kind: 'stall.stalled',
        flow: flow.id,
        iommu: iommu.id,
        device: transaction.device.id,
        pasid: transaction.request.pasid === NO_PASID ? null : transaction.request.pasid,
        stag,
        address: formatAddress(page),
        event:
          faultKindName(failed.fault) === 'translation'
            ? 'F_TRANSLATION'
            : iommu.model.faultCode(faultKindName(failed.fault), failed.faultStage, false).name,
        stage: failed.faultStage,
        records: [record!],
      });
    this.path.kickDriver(iommu);
  }

  /** The driver reads one fault-queue entry: a stall becomes a page request; a record goes to the handler. */
  drainOne(iommu: Iommu, offsetNs: number): void {
    const readNs = this.env.scheduler.nowNs + offsetNs;
    const entry = iommu.faultQueue.shift(readNs);
    if (entry === undefined) return;
    if (entry.type === 'record') {
      this.path.reportUnrecoverable(entry.record, entry.device, entry.flow, readNs);
      return;
    }
    const { stalled } = entry;
    if (iommu.stalled.get(stalled.stag) !== stalled) return; // terminated while queued
    stalled.reported = true;
    const [flow] = stalled.flows;
    flow.hop(HOP_QUEUE_WAIT, readNs, NO_HOP);
    this.path.report(stallRequest(stalled, flow, readNs), offsetNs);
  }

  /** CMD_RESUME for a stall tag: RETRY on SUCCESS, ABORT otherwise. */
  resume(request: PageRequest, code: ResponseCode, cause: ResponseCause, delayNs: number): void {
    const { device } = request;
    const { iommu } = device;
    const stag = request.grpid;
    const action = code === 'SUCCESS' ? 'RETRY' : 'ABORT';
    const { flow } = request;
    if (flow !== null) {
      flow.code = action;
      flow.hop(HOP_RESPONSE_WRITE, this.env.scheduler.nowNs + delayNs, HOP_RESUME);
    }
    const toEvent = this.env.bus.wants('stall.resume');
    if (toEvent || (flow !== null && this.env.bus.wants('flow.ended'))) {
      // struct iommu_page_response from the iopf core (every stall answer comes through it), then CMD_RESUME.
      const records = [pageResponseOf(request, code), responseCommandOf(request, code)];
      if (flow !== null && this.env.bus.wants('flow.ended'))
        for (const record of records) flow.addRecord(this.env.scheduler.nowNs, record);
      if (toEvent)
        this.env.bus.emit({
          kind: 'stall.resume',
          flow: flow?.id ?? null,
          iommu: iommu.id,
          device: device.id,
          stag,
          action,
          cause,
          records,
        });
    }
    this.path.metrics.resumed(device, action);
    this.env.scheduler.after(delayNs + this.env.latency.stallResumeNs, () => {
      const stalled = iommu.stalled.get(stag);
      if (stalled === undefined) return;
      iommu.stalled.delete(stag);
      const [stallFlow] = stalled.flows;
      stallFlow.hop(HOP_RESUME, this.env.scheduler.nowNs, HOP_RETRANSLATE);
      if (action === 'RETRY') this.path.transactions.retry(stalled.transaction, 0, listOf(stallFlow));
      else {
        this.path.endFlow(stallFlow, 'failed', NO_HOP);
        this.path.transactions.fail(stalled.transaction, 'stall-terminated', null);
      }
    });
  }

  /** CMD_STALL_TERM for a device: stalls not yet answered end with an abort (reset, detach). */
  flushDevice(device: Device, pasid: number | null): void {
    for (const [stag, stalled] of device.iommu.stalled) {
      if (
        stalled.transaction.device !== device ||
        (pasid !== null && stalled.transaction.request.pasid !== pasid)
      )
        continue;
      if (stalled.reported) continue; // its group was answered by the flush of pending groups
      device.iommu.stalled.delete(stag);
      // CMD_STALL_TERM while the event still waits in the queue: the flow ends in its queue wait.
      this.path.endFlow(stalled.flows[0], 'failed', HOP_QUEUE_WAIT);
      this.path.transactions.fail(stalled.transaction, 'stall-terminated', null);
    }
  }

  private allocateTag(iommu: Iommu): number {
    while (iommu.stalled.has(iommu.nextStallTag)) iommu.nextStallTag = (iommu.nextStallTag + 1) % STAG_SPACE;
    const stag = iommu.nextStallTag;
    iommu.nextStallTag = (stag + 1) % STAG_SPACE;
    return stag;
  }
}

/** arm_smmu_handle_event: READ if RnW else WRITE, EXEC if InD, PRIV if PnU. */
function stallPerm(transaction: Transaction): number {
  const { access, privileged } = transaction.request;
  return (
    (access === 'write' ? PERM_WRITE : PERM_READ) |
    (access === 'exec' ? PERM_EXEC : 0) |
    (privileged ? PERM_PRIV : 0)
  );
}

/**
 * The page request a stall becomes when the driver reads its event (arm_smmu_handle_event): always the
 * last of its group, grpid the stall tag, PASID_VALID with a substream.
 */
function stallRequest(stalled: StalledTransaction, flow: FaultFlow, readNs: number): PageRequest {
  const { request } = stalled.transaction;
  return {
    seq: 0,
    device: stalled.transaction.device,
    pasid: request.pasid,
    page: stalled.page,
    perm: flow.perm,
    grpid: stalled.stag,
    flags: PAGE_REQUEST_LAST_PAGE | (request.pasid !== NO_PASID ? PAGE_REQUEST_PASID_VALID : 0),
    transport: 'stall',
    kind: faultKindName(stalled.kind),
    stage: stalled.stage,
    stage2Page: stalled.stage2Page,
    stopMarker: false,
    sentNs: readNs,
    flow,
    responseCode: 'SUCCESS',
    pooled: false,
    free: false,
  };
}
