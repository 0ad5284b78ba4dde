/**
 * @iommu-lab/emulator: a deterministic emulator of IOMMUs (Intel VT-d, Arm SMMUv3), devices and their
 * DMA, in simulated time. Start from `System` (or `buildSystem` with a config); everything else is here
 * for typing and for callers that inspect the model.
 */
export {
  System,
  DEFAULT_MEMORY_FRAMES,
  type DmaSpec,
  type InvalidateIotlbSpec,
  type Translated,
} from './system';
export { buildSystem } from './config/build-system';
export * from './config/system-config';
export { describeSystem, type SystemSnapshot, type CacheSnapshot } from './describe';
export {
  EmulatorError,
  isEmulatorError,
  ERRNO,
  type ErrorCode,
  type ErrnoCode,
  type LabCode,
} from './errors';
export {
  formatAddress,
  splitAddress,
  toBigAddress,
  PAGE_SIZE,
  PAGE_SHIFT,
  type AddressInput,
  type PageSizeName,
} from './address';
export {
  EVENT_KINDS,
  type EmulatorEvent,
  type EventKind,
  type EventOf,
  type EventPayloads,
} from './sim/events';
export {
  KERNEL_PROFILES,
  kernelProfile,
  type KernelProfile,
  type KernelProfileName,
  type FaultCategory,
} from './profile/kernel-profile';
export { FAMILY_MODELS, type IommuFamilyModel } from './iommu/family';
export type { IommuCapabilities, IommuFamily } from './iommu/capabilities';
export type { FaultRecord } from './iommu/fault-record';
export { FAULT_KIND_NAMES, LINUX_FAULT_REASONS, type FaultKind } from './iommu/fault-kind';
export { DEFAULT_LATENCY, LATENCY_SOURCES, type LatencyModel } from './latency/latency-model';
export { Histogram, binLowerBound, type HistogramSummary } from './metrics/histogram';
export type { MetricsSnapshot, ScopeSnapshot } from './metrics/metrics';
export type { Transaction, TransactionState } from './dma/transaction';
export type { Device, DeviceFeature } from './device/device';
export type { Domain, DomainType } from './domain/domain';
export type { Iommu } from './iommu/iommu';
export type { Process, MmFaultOutcome } from './process/process';
export type { Access } from './pagetable/permissions';
export type { WalkStep } from './pagetable/page-table';
