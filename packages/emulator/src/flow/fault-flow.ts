/**
 * A fault flow: the life of one fault, from the failed translation to the DMA resuming or failing. One
 * flow per page request (PRI), per stall (SMMUv3), per fault a device resolves itself, and per
 * unrecoverable fault. The flow is the causal record the emulator keeps as it goes: every event of the
 * fault names it, and when it ends it becomes one anatomy record (`toRecord`).
 *
 * Hops are the consecutive intervals of the flow, each named for the step that ends it and costed by the
 * latency model (or by the queue and credit waits the simulation produced). A hop is set when its step
 * happens, so hops that do not apply stay absent (-1), and the hops sum exactly to end − start.
 */
import { formatAddress } from '../address';
import type { ScopeMetrics } from '../metrics/metrics';
import { formatProt } from '../pagetable/permissions';
import type { FaultCategory } from '../profile/kernel-profile';
import type { CarriedRecord } from '../records/bit-layout';
import { type RecordLayer, recordLayer } from '../records/record-layer';

/** How the fault reached something that could resolve it (reference §2, §5, §6, §3). */
export const FLOW_MECHANISMS = ['pri', 'stall', 'self-faulting', 'unrecoverable'] as const;
export type FlowMechanism = (typeof FLOW_MECHANISMS)[number];

/**
 * How a flow ended. resumed: the retried translation succeeded, the DMA went on. refaulted: it failed
 * again and a new flow took over (its `causes` name this one). failed: the DMA ended with an error
 * completion because of this fault. dropped: a full hardware queue dropped the request (a partial, not
 * answered) or terminated the stall. discarded: a partial request freed without a response (overflow
 * discard, detach, reset). aborted: the device's transaction ended while the flow waited (function
 * reset). recorded / lost: an unrecoverable fault, read by the driver or lost; the DMA failed.
 */
export const FLOW_OUTCOMES = [
  'resumed',
  'refaulted',
  'failed',
  'dropped',
  'discarded',
  'aborted',
  'recorded',
  'lost',
] as const;
export type FlowOutcome = (typeof FLOW_OUTCOMES)[number];

/**
 * The hops, in the order they can happen. Not every flow has every hop: a PRI flow has toIommu,
 * queueWait, dispatch, handler, responseWrite, toDevice and retranslate; a stall has resume instead of
 * toDevice; a device that handles its own fault has deviceDriver and mmFault.
 */
export const HOPS = [
  /** The burst found no PRI credit or PRG index and waited (§5). */
  'creditWait',
  /** The Page Request message crosses PCIe to the IOMMU (half the PRI round trip). */
  'toIommu',
  /** In the hardware queue (PRQ, PRIQ, event queue) until the driver's thread reads it. */
  'queueWait',
  /** A partial request waits for the last request of its group (iopf core). */
  'groupWait',
  /** The group waits for its workqueue worker (iopfDispatchNs). */
  'dispatch',
  /** The kernel handler ran: fixed cost plus handle_mm_fault / map / eviction / guest costs. */
  'handler',
  /** An outside client (iommufd, script, dashboard) had the group and answered. */
  'clientWait',
  /** Nobody answered before the deadline: the timeout answered for them. */
  'timeout',
  /** The page response descriptor / command is written and completes (responseNs). */
  'responseWrite',
  /** The PRG Response crosses PCIe to the device (half the PRI round trip). */
  'toDevice',
  /** A dropped last request: the IOMMU's automatic Success reaches the device (§7). */
  'overflowResponse',
  /** SMMUv3 CMD_RESUME: the stalled transaction re-enters translation (stallResumeNs). */
  'resume',
  /** A device that manages its own faults: interrupt and driver work (deviceFaultNs). */
  'deviceDriver',
  /** That driver's handle_mm_fault (minor / major fault cost). */
  'mmFault',
  /** The retried translation (ATS request, IOTLB, walk) of the page the DMA stopped at. */
  'retranslate',
] as const;
export type HopName = (typeof HOPS)[number];

export const HOP_CREDIT_WAIT = 0;
export const HOP_TO_IOMMU = 1;
export const HOP_QUEUE_WAIT = 2;
export const HOP_GROUP_WAIT = 3;
export const HOP_DISPATCH = 4;
export const HOP_HANDLER = 5;
export const HOP_CLIENT_WAIT = 6;
export const HOP_TIMEOUT = 7;
export const HOP_RESPONSE_WRITE = 8;
export const HOP_TO_DEVICE = 9;
export const HOP_OVERFLOW_RESPONSE = 10;
export const HOP_RESUME = 11;
export const HOP_DEVICE_DRIVER = 12;
export const HOP_MM_FAULT = 13;
export const HOP_RETRANSLATE = 14;
const HOP_COUNT = HOPS.length;
/** No hop pending: an early end then closes nothing. */
export const NO_HOP = -1;

/** What the handler's time was spent on (the handler hop's breakdown), in ns. */
export interface HandlerCosts {
  fixedNs: number;
  mmFaultNs: number;
  mapNs: number;
  evictionNs: number;
  guestNs: number;
}

/** Handler cost breakdown with every part zero, for a handler to add to. */
export function newHandlerCosts(fixedNs: number): HandlerCosts {
  return { fixedNs, mmFaultNs: 0, mapNs: 0, evictionNs: 0, guestNs: 0 };
}

/** A byte-exact record the flow produced: when, by which layer, and the record itself. */
export interface FlowRecordEntry {
  atNs: number;
  layer: RecordLayer;
  record: CarriedRecord;
}

/** The anatomy record of an ended flow, as JSON. */
export interface FlowRecord {
  flow: number;
  mechanism: FlowMechanism;
  /** The DMA transaction that faulted. */
  transaction: number | null;
  iommu: string;
  device: string;
  pasid: number | null;
  address: string;
  /** r, w, x, p as the request carried them. */
  access: string;
  stage: 1 | 2 | null;
  /** Family-neutral fault kind (translation, permission, …). */
  fault: string;
  category: FaultCategory | null;
  handler: string | null;
  /** The iopf group the request joined, if it reached one. */
  group: number | null;
  /** SUCCESS / INVALID / FAILURE; RETRY / ABORT for a stall; the reason code's name for unrecoverable; the mm outcome for self-faulting. */
  code: string | null;
  /**
   * An unrecoverable fault's code as its hardware recorded it, in hex: VT-d FRCD.FR or the SMMUv3 event ID
   * (the `fault.unrecoverable` event's `reason`; `code` is its name). Null for other flows and where the
   * hardware records nothing (SMMUv3 abort STE).
   */
  reason: string | null;
  /** Why it got that answer (handler, timeout, no-handler, queue-overflow, detach, reset, …). */
  cause: string | null;
  outcome: FlowOutcome;
  startNs: number;
  endNs: number;
  latencyNs: number;
  /** Each hop that applied, in order, with when it started and what it cost; they sum to latencyNs. */
  hops: { hop: HopName; startNs: number; ns: number }[];
  handlerCosts: HandlerCosts | null;
  /** Flows this one followed from: the flows the same transaction refaulted after, or the request its overflow retried. */
  causes: number[];
  /** The earlier flow that resolved this page, before an eviction or an munmap took it away. */
  replaces: { flow: number; because: PageGone } | null;
  /**
   * What the device, the IOMMU, the kernel and user space wrote for it, byte for byte, in the order they
   * wrote it (records/layouts.ts): the Page Request message, the queue entry, struct iommu_fault, the
   * response command, the PRG Response… Kept only when flows are listened to.
   */
  records: FlowRecordEntry[];
}

/** Why a page an earlier flow resolved was gone again. */
export type PageGone = 'evicted' | 'unmapped' | 'reclaimed';

const NO_CAUSES: readonly number[] = [];
const NO_SCOPES: readonly ScopeMetrics[] = [];

export class FaultFlow {
  /** Cost of each hop in ns, -1 where it did not apply (index: HOP_*). */
  readonly hopNs: number[] = [-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1];
  /** Where the current hop began. */
  private lastNs = 0;
  /** The hop the flow is in now: what it waits for, so an early end knows which hop to close. */
  waitingFor = HOP_TO_IOMMU;
  endNs = -1;
  outcome: FlowOutcome | null = null;
  category: FaultCategory | null = null;
  handler: string | null = null;
  group: number | null = null;
  code: string | null = null;
  reason: string | null = null;
  cause: string | null = null;
  handlerCosts: HandlerCosts | null = null;
  causes: readonly number[] = NO_CAUSES;
  replaces: { flow: number; because: PageGone } | null = null;
  id = 0;
  mechanism: FlowMechanism = 'pri';
  transaction: number | null = null;
  iommu = '';
  device = '';
  /** -1 without PASID. */
  pasid = -1;
  page = 0;
  /** IOMMU_FAULT_PERM_* bits of the access. */
  perm = 0;
  stage: 1 | 2 | null = null;
  fault = '';
  startNs = 0;
  /** Metric scopes of its device (system, device, IOMMU): where its end is counted. */
  scopes: readonly ScopeMetrics[] = NO_SCOPES;
  /**
   * Reuse (set by flow-recorder.ts, which decides): a PRI flow is reused once it has ended and none of its holders (its page
   * request, its outstanding group, the retry that answers it) names it any more; `holds` counts them.
   */
  reusable = false;
  holds = 0;
  free = false;
  /** The records it produced so far (only while someone listens to ended flows); null before the first. */
  records: FlowRecordEntry[] | null = null;
  /** The storage `handlerCosts` points to once set: the flow's own copy of its group's breakdown. */
  private readonly ownCosts: HandlerCosts = newHandlerCosts(0);

  /** Sets it up whole for a new fault: nothing of a flow before shows. */
  init(
    id: number,
    mechanism: FlowMechanism,
    transaction: number | null,
    iommu: string,
    device: string,
    pasid: number,
    page: number,
    perm: number,
    stage: 1 | 2 | null,
    fault: string,
    startNs: number,
    scopes: readonly ScopeMetrics[],
  ): this {
    this.hopNs.fill(-1);
    this.lastNs = startNs;
    this.waitingFor = HOP_TO_IOMMU;
    this.endNs = -1;
    this.outcome = null;
    this.category = null;
    this.handler = null;
    this.group = null;
    this.code = null;
    this.reason = null;
    this.cause = null;
    this.handlerCosts = null;
    this.causes = NO_CAUSES;
    this.replaces = null;
    this.id = id;
    this.mechanism = mechanism;
    this.transaction = transaction;
    this.iommu = iommu;
    this.device = device;
    this.pasid = pasid;
    this.page = page;
    this.perm = perm;
    this.stage = stage;
    this.fault = fault;
    this.startNs = startNs;
    this.scopes = scopes;
    this.reusable = false;
    this.holds = 0;
    this.records = null;
    return this;
  }

  /** Notes a record the flow produced at `atNs`. */
  addRecord(atNs: number, record: CarriedRecord): void {
    (this.records ??= []).push({ atNs, layer: recordLayer(record.layout), record });
  }

  /** The handler's breakdown, copied: the group's own record is reused by its next group. */
  setHandlerCosts(costs: HandlerCosts | null): void {
    if (costs === null) {
      this.handlerCosts = null;
      return;
    }
    const own = this.ownCosts;
    own.fixedNs = costs.fixedNs;
    own.mmFaultNs = costs.mmFaultNs;
    own.mapNs = costs.mapNs;
    own.evictionNs = costs.evictionNs;
    own.guestNs = costs.guestNs;
    this.handlerCosts = own;
  }

  get ended(): boolean {
    return this.outcome !== null;
  }

  /** The hop `hop` ends at `atNs` (simulated ns, not before the previous hop's end). */
  hop(hop: number, atNs: number, next: number): void {
    if (this.outcome !== null) return;
    this.hopNs[hop] = (this.hopNs[hop]! < 0 ? 0 : this.hopNs[hop]!) + (atNs - this.lastNs);
    this.lastNs = atNs;
    this.waitingFor = next;
  }

  /** Where the flow stands: the end of its last hop. */
  get atNs(): number {
    return this.lastNs;
  }

  get latencyNs(): number {
    return this.endNs - this.startNs;
  }

  toRecord(): FlowRecord {
    const hops: FlowRecord['hops'] = [];
    let at = this.startNs;
    for (let i = 0; i < HOP_COUNT; i++) {
      const ns = this.hopNs[i]!;
      if (ns < 0) continue;
      hops.push({ hop: HOPS[i]!, startNs: at, ns });
      at += ns;
    }
    return {
      flow: this.id,
      mechanism: this.mechanism,
      transaction: this.transaction,
      iommu: this.iommu,
      device: this.device,
      pasid: this.pasid < 0 ? null : this.pasid,
      address: formatAddress(this.page),
      access: formatProt(this.perm),
      stage: this.stage,
      fault: this.fault,
      category: this.category,
      handler: this.handler,
      group: this.group,
      code: this.code,
      reason: this.reason,
      cause: this.cause,
      outcome: this.outcome!,
      startNs: this.startNs,
      endNs: this.endNs,
      latencyNs: this.latencyNs,
      hops,
      handlerCosts: this.handlerCosts && { ...this.handlerCosts },
      causes: [...this.causes],
      replaces: this.replaces,
      records: this.records === null ? [] : [...this.records],
    };
  }
}
