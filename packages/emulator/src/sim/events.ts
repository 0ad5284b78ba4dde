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
import type { KernelProfileName } from '../profile/kernel-profile';

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
  'process.page-fault': { process: string; address: string; access: string; outcome: MmFaultOutcome };
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
  'dma.faulted': DmaEnd & { bytesDone: number; fault: FaultKind; faultAddress: string };
  'dma.aborted': { transaction: number; device: string; cause: string };
  'fault.unrecoverable': FaultRecord;
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
  'fault.unrecoverable': true,
};
export const EVENT_KINDS = Object.keys(KINDS) as EventKind[];

export type EventOf<K extends EventKind> = { seq: number; timeNs: number; kind: K } & EventPayloads[K];
export type EmulatorEvent = { [K in EventKind]: EventOf<K> }[EventKind];
/** What an emitter passes: the bus adds seq and timeNs. */
export type EventInput<K extends EventKind> = { kind: K } & EventPayloads[K];
