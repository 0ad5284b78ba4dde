/**
 * @iommu-lab/emulator: a deterministic emulator of IOMMUs (Intel VT-d, Arm SMMUv3), devices and their
 * DMA, in simulated time. Start from `System` (or `buildSystem` with a config, or `startPreset`);
 * everything else is here for typing and for callers that inspect the model.
 */
export {
  System,
  DEFAULT_MEMORY_FRAMES,
  type DmaSpec,
  type InvalidateIotlbSpec,
  type Translated,
  type PendingFault,
  type SystemMetrics,
} from './system';
export { buildSystem } from './config/build-system';
export { exportConfig, type ConfigExport, type ExportedConfig } from './config/export-config';
export * from './schemas';
export { describeSystem, type SystemSnapshot, type CacheSnapshot, type QueueSnapshot } from './describe';
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
export type { EmulatorEvent, EventOf } from './sim/events';
export type { CarriedRecord, LayoutDescription } from './records/bit-layout';
export { RECORD_LAYOUTS, carryStoredRecord, describeLayouts } from './records/layouts';
export { recordLayer, type RecordLayer } from './records/record-layer';
export {
  HOPS,
  type HopName,
  type FlowRecord,
  type FlowRecordEntry,
  type FlowMechanism,
  type FlowOutcome,
  type HandlerCosts,
} from './flow/fault-flow';
export { kernelProfile, type KernelProfile } from './profile/kernel-profile';
export { FAMILY_MODELS, type IommuFamilyModel } from './iommu/family';
export type { IommuCapabilities, IommuFamily } from './iommu/capabilities';
export type { FaultRecord } from './iommu/fault-record';
export { LINUX_FAULT_REASONS } from './iommu/fault-kind';
export { Histogram, binLowerBound, type HistogramSummary } from './metrics/histogram';
export type { MetricsSnapshot, ScopeSnapshot, FaultSnapshot } from './metrics/metrics';
export { MAX_SERIES_BINS, rebinSeries, type SeriesQuery, type SimSeriesAnswer } from './metrics/sim-series';
export type { Transaction, TransactionState } from './dma/transaction';
export type { Livelock, TransactionError } from './fault/fault-path';
export {
  DEFAULT_LIVELOCK,
  describeLivelock,
  type LivelockFigures,
  type LivelockOptions,
} from './fault/livelock-detector';
export type { Device, DeviceFeature } from './device/device';
export type { Domain, DomainType } from './domain/domain';
export type { Iommu } from './iommu/iommu';
export type { Process, MmFaultOutcome } from './process/process';
export type { Access } from './pagetable/permissions';
export type { WalkStep } from './pagetable/page-table';
export type { HandlerSpec, RegionSpec } from './fault/handler-registry';
export type { HandlerInfo, HandlerType } from './fault/handlers/fault-handler';
export {
  Iommufd,
  type IommufdObjectType,
  type IommufdObjectInfo,
  type HwptAllocSpec,
  type AttachPtSpec,
} from './iommufd/iommufd';
export type { FaultQueue } from './iommufd/fault-queue';
export type { VeventQueue } from './iommufd/veventq';
export {
  IOMMU_HWPT_ALLOC,
  IOMMU_HWPT_PGFAULT,
  IOMMU_HWPT_PAGE_RESPONSE,
  IOMMUFD_VEVENT_HEADER,
  IOMMU_VIOMMU_TYPE,
  IOMMU_VEVENTQ_TYPE,
  IOMMU_VEVENTQ_FLAG_LOST_EVENTS,
  decodePgfaults,
  decodeVevents,
  hwptPageResponse,
  type HwptPgfault,
  type Vevent,
} from './iommufd/uapi';
export { FailNth, type FailNthCounter, type FailNthKind, type FailNthSpec } from './injection/fail-nth';
export type {
  InjectedPageRequest,
  PageRequestAccess,
  PageRequestSpec,
} from './injection/page-request-injection';
export { PRESETS, presetById, startPreset, type Preset, type PresetRun } from './presets/presets';
export { WorkloadRun, type WorkloadProgress } from './workload/workload-runner';
export { checkWorkload } from './workload/check-workload';
