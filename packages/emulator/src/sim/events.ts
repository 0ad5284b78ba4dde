/**
 * Every event the emulator emits, by kind. Events are plain JSON-ready objects: ids are strings,
 * addresses hex strings, times integers in ns. The API streams them as they are.
 */
import type { DeviceFeature } from '../device/device';
import type { FaultMechanism } from '../device/features';
import type { DomainType } from '../domain/domain';
import type { IommuFamily } from '../iommu/capabilities';
import type { FaultKind } from '../iommu/fault-kind';
import type { FaultRecord } from '../iommu/fault-record';
import type { TranslationSource } from '../iommu/translation';
import type { Access } from '../pagetable/permissions';
import type { MmFaultOutcome } from '../process/process';
import type { KernelProfileName, FaultCategory } from '../profile/kernel-profile';
import type { TransactionError } from '../fault/fault-path';
import type { DeviceResponse } from '../iommu/family';
import type { HandlerType } from '../fault/handlers/fault-handler';
import type { ResponseCause } from '../fault/iopf-group';
import type { FaultTransport, ResponseCode } from '../fault/page-request';
import type { FlowRecord } from '../flow/fault-flow';
import type { CarriedRecord } from '../records/bit-layout';
import type { LivelockFigures } from '../fault/livelock-detector';

interface DmaEnd {
  transaction: number;
  device: string;
  pasid: number | null;
  address: string;
  length: number;
  access: Access;
  privileged: boolean;
  /** Submission to completion (or fault), in simulated ns. */
  latencyNs: number;
  /** Translation failures resolved on the way (page requests answered Success, stalls resumed, …). */
  recoveries: number;
  /** Every fault flow the transaction went through, in order. */
  flows: number[];
}

interface PageRequestEvent {
  /** The request's sequence number. */
  request: number;
  /** Its fault flow (null for a Stop Marker). */
  flow: number | null;
  device: string;
  pasid: number | null;
  address: string;
  perm: string;
  prgIndex: number;
  last: boolean;
  stage: 1 | 2;
  /** The PCIe Page Request message, byte for byte (fault/fault-records.ts). */
  records: CarriedRecord[];
  /** Injected (System.injectPageRequest): no transaction, flow or credit of the device behind it. */
  injected?: true;
}

export interface EventPayloads {
  'iommu.added': { iommu: string; family: IommuFamily; profile: KernelProfileName };
  'device.added': { device: string; iommu: string; rid: string; deviceKind: 'pci' | 'platform' };
  'device.reset': { device: string; aborted: number };
  'process.created': { process: string; pid: number };
  'process.mmap': { process: string; address: string; size: number; prot: string };
  'process.munmap': { process: string; address: string; size: number };
  'process.mprotect': { process: string; address: string; size: number; prot: string };
  /** handle_mm_fault resolved (or failed to resolve) a page. */
  'process.page-fault': {
    process: string;
    address: string;
    access: string;
    outcome: MmFaultOutcome;
    /** The fault flow a handler resolved it for; null for a CPU access. */
    flow: number | null;
  };
  'process.reclaim': { process: string; address: string; size: number; pages: number };
  'process.exit': { process: string };
  'domain.created': { domain: string; iommu: string; type: DomainType };
  'domain.destroyed': { domain: string; iommu: string };
  'domain.attached': { device: string; domain: string; pasid: number | null };
  'domain.detached': { device: string; domain: string; pasid: number | null };
  'domain.mapped': { domain: string; iova: string; phys: string; size: number; prot: string };
  'domain.unmapped': { domain: string; iova: string; size: number };
  'feature.enabled': { device: string; feature: DeviceFeature };
  'feature.disabled': { device: string; feature: DeviceFeature };
  /** I/O page faults switched on for a device: PRI enabled with its allocation, or stall. */
  'iopf.enabled': { device: string; mechanism: FaultMechanism; priAllocation: number };
  'iopf.disabled': { device: string };
  'pasid.allocated': { process: string; pasid: number };
  'pasid.freed': { process: string; pasid: number };
  'sva.bound': { device: string; process: string; pasid: number; domain: string };
  'sva.unbound': { device: string; process: string; pasid: number };
  'iotlb.invalidated': {
    iommu: string;
    scope: 'all' | 'domain' | 'pasid' | 'range';
    domain: string | null;
    pasid: number | null;
    address: string | null;
    pages: number | null;
    /** Entries dropped. */
    entries: number;
    cause: string;
  };
  'atc.invalidated': {
    device: string;
    pasid: number | null;
    address: string | null;
    pages: number | null;
    entries: number;
    cause: string;
  };
  /** One page of a DMA translated and moved; emitted only when someone listens. */
  'dma.page': {
    transaction: number;
    device: string;
    pasid: number | null;
    address: string;
    frame: string;
    source: TranslationSource;
    costNs: number;
  };
  'dma.completed': DmaEnd;
  'dma.faulted': DmaEnd & {
    bytesDone: number;
    error: TransactionError;
    fault: FaultKind | null;
    faultAddress: string;
  };
  'dma.aborted': { transaction: number; device: string; cause: string };
  /** A waiting transaction translates its page again: after a PRG response Success, CMD_RESUME RETRY, or its own driver. */
  'dma.retried': { transaction: number; device: string; flows: number[] };
  /** A fault flow ended: its anatomy record, every hop with its latency (flow/fault-flow.ts). */
  'flow.ended': FlowRecord;
  /** `records`: the FRCD or event record the IOMMU wrote; none when it recorded nothing. */
  'fault.unrecoverable': FaultRecord & { records: CarriedRecord[] };
  /** The driver read an unrecoverable record and (profiles with reports) handed it to the device's handler. */
  'fault.reported': {
    flow: number | null;
    device: string;
    transaction: number | null;
    fault: FaultKind;
    codeName: string;
    linuxReason: string | null;
    handler: HandlerType | null;
    delivered: boolean;
  };
  'pri.page-request': PageRequestEvent;
  'pri.stop-marker': PageRequestEvent;
  /** A burst found no credit or no free PRG index and waits. */
  'pri.credit-wait': { device: string; transaction: number; waiting: number; outstanding: number };
  /** `records`: the queue entry the driver read and dropped. */
  'pri.stop-marker-dropped': { iommu: string; device: string; pasid: number; records: CarriedRecord[] };
  /** The device received a PRG response. */
  'pri.response': {
    device: string;
    prgIndex: number;
    response: DeviceResponse;
    requests: number;
    /** The flows of the group's requests this response answers. */
    flows: number[];
    /** The PRG Response message, byte for byte. */
    records: CarriedRecord[];
  };
  /** A PRG response for an index not outstanding: Status UPRGI set, response ignored. */
  'pri.unexpected-response': { device: string; prgIndex: number; records: CarriedRecord[] };
  /** A full hardware queue refused an entry; `request` is the page request's sequence number, if it was one. */
  'iommu.queue-overflow': {
    iommu: string;
    queue: string;
    device: string;
    lastRequest: boolean;
    request: number | null;
    /** The fault flow the refused entry belonged to. */
    flow: number | null;
  };
  /** After an overflow the driver drained its queue and dropped all partial requests (iopf_queue_discard_partial). */
  'iommu.partials-discarded': { iommu: string; requests: number[]; flows: number[] };
  /**
   * The page request queue's overflow storm passed its bound (fault/livelock-detector.ts) and the system
   * stopped: nothing runs after this event. `device` and `flow`: the refused request that tripped it.
   */
  'fault.livelock': LivelockFigures & { iommu: string; queue: string; device: string; flow: number | null };
  /** Partial requests of a device freed by a detach or reset, without a response (iopf_queue_remove_device). */
  'fault.partials-dropped': {
    device: string;
    pasid: number | null;
    requests: number[];
    flows: number[];
    cause: 'detach' | 'reset';
  };
  /** A group built from a last request and its partials, handed to its handler. */
  'fault.group': {
    group: number;
    /** Sequence numbers of its page requests (stall groups: the stall's, 0). */
    requests: number[];
    /** The fault flows of its requests, in the same order. */
    flows: number[];
    iommu: string;
    device: string;
    pasid: number | null;
    grpid: number;
    transport: FaultTransport;
    faults: number;
    addresses: string[];
    category: FaultCategory | null;
    stage: 1 | 2;
    domain: string | null;
    handler: HandlerType;
    /** For each request in order: the queue entry the driver read, then the struct iommu_fault it reported. */
    records: CarriedRecord[];
  };
  /** A group waits for an outside client's answer (iommufd fault queue, dashboard, script). */
  'fault.awaiting-client': {
    cookie: number;
    group: number;
    flows: number[];
    device: string;
    pasid: number | null;
    category: FaultCategory | null;
    stage: 1 | 2;
    faults: { address: string; perm: string; stage2Address: string | null }[];
    deadlineNs: number;
  };
  /**
   * User space read a group from an iommufd fault object (iommufd_fault_fops_read): the struct
   * iommu_hwpt_pgfault records it got, one per request, with the group's cookie.
   */
  'iommufd.read': {
    fault: number;
    device: string;
    cookie: number;
    group: number;
    flows: number[];
    records: CarriedRecord[];
  };
  /**
   * The host forwarded a guest device's event to a vEVENTQ (arm_vmaster_report_event): the raw event record
   * with the virtual StreamID, or nothing when the queue was full and a LOST_EVENTS header took its place.
   */
  'iommufd.vevent': {
    veventq: number;
    viommu: number;
    device: string;
    virtId: number;
    sequence: number;
    lost: boolean;
    records: CarriedRecord[];
  };
  /** User space answered a group (iommufd_fault_fops_write): its struct iommu_hwpt_page_response. */
  'iommufd.response': {
    fault: number;
    device: string;
    cookie: number;
    group: number;
    code: ResponseCode;
    flows: number[];
    records: CarriedRecord[];
  };
  /** A page response leaves the IOMMU: the kernel's code, what goes on the wire, and why. */
  'fault.response': {
    iommu: string;
    device: string;
    pasid: number | null;
    grpid: number;
    code: ResponseCode;
    wireCode: number;
    wireName: string;
    cause: ResponseCause | 'queue-overflow';
    /** The request answered (the last of its group), and the group when a group was answered. */
    request: number;
    group: number | null;
    /** The fault flows it answers (the group's, or the one request's). */
    flows: number[];
    /**
     * What was written for it: the queue entry, when the driver answered straight from it (a malformed or
     * denied request); struct iommu_page_response, when the iopf core answered; the response command. None
     * for the IOMMU's own answer to an overflow.
     */
    records: CarriedRecord[];
  };
  /** A device that manages its own faults resolved one through its driver. */
  'fault.device-handled': {
    flow: number;
    device: string;
    pasid: number | null;
    address: string;
    outcome: MmFaultOutcome;
  };
  'stall.stalled': {
    flow: number;
    iommu: string;
    device: string;
    pasid: number | null;
    stag: number;
    address: string;
    event: string;
    stage: 1 | 2;
    /** The event record with Stall=1. */
    records: CarriedRecord[];
  };
  'stall.resume': {
    flow: number | null;
    iommu: string;
    device: string;
    stag: number;
    action: 'RETRY' | 'ABORT';
    cause: ResponseCause;
    /** struct iommu_page_response when the iopf core answered, then CMD_RESUME. */
    records: CarriedRecord[];
  };
  /** A MAP or guest handler mapped a page on demand. */
  'handler.mapped': { flow: number | null; domain: string; iova: string; phys: string; pinned: number };
  /** A MAP handler unmapped a page to stay within its pin budget: `flow` had mapped it, `by` needed the room. */
  'handler.evicted': { flow: number | null; by: number | null; domain: string; iova: string; pinned: number };
  'handler.registered': {
    device: string | null;
    domain: string | null;
    handler: HandlerType;
    categories: FaultCategory[] | null;
  };
  'handler.unregistered': { device: string | null; domain: string | null; handler: HandlerType };
}

export type EventKind = keyof EventPayloads;
/** Every kind, complete by construction (a Record over EventKind). */
const KINDS: Record<EventKind, true> = {
  'iommu.added': true,
  'device.added': true,
  'device.reset': true,
  'process.created': true,
  'process.mmap': true,
  'process.munmap': true,
  'process.mprotect': true,
  'process.page-fault': true,
  'process.reclaim': true,
  'process.exit': true,
  'domain.created': true,
  'domain.destroyed': true,
  'domain.attached': true,
  'domain.detached': true,
  'domain.mapped': true,
  'domain.unmapped': true,
  'feature.enabled': true,
  'feature.disabled': true,
  'iopf.enabled': true,
  'iopf.disabled': true,
  'pasid.allocated': true,
  'pasid.freed': true,
  'sva.bound': true,
  'sva.unbound': true,
  'iotlb.invalidated': true,
  'atc.invalidated': true,
  'dma.page': true,
  'dma.completed': true,
  'dma.faulted': true,
  'dma.aborted': true,
  'dma.retried': true,
  'flow.ended': true,
  'fault.unrecoverable': true,
  'fault.reported': true,
  'pri.page-request': true,
  'pri.stop-marker': true,
  'pri.credit-wait': true,
  'pri.stop-marker-dropped': true,
  'pri.response': true,
  'pri.unexpected-response': true,
  'iommu.queue-overflow': true,
  'iommu.partials-discarded': true,
  'fault.livelock': true,
  'fault.partials-dropped': true,
  'fault.group': true,
  'fault.awaiting-client': true,
  'fault.response': true,
  'iommufd.read': true,
  'iommufd.response': true,
  'iommufd.vevent': true,
  'fault.device-handled': true,
  'stall.stalled': true,
  'stall.resume': true,
  'handler.mapped': true,
  'handler.evicted': true,
  'handler.registered': true,
  'handler.unregistered': true,
};
export const EVENT_KINDS = Object.keys(KINDS) as EventKind[];

export type EventOf<K extends EventKind> = { seq: number; timeNs: number; kind: K } & EventPayloads[K];
export type EmulatorEvent = { [K in EventKind]: EventOf<K> }[EventKind];
/** What an emitter passes: the bus adds seq and timeNs. */
export type EventInput<K extends EventKind> = { kind: K } & EventPayloads[K];
