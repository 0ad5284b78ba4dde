/**
 * The wire types the dashboard uses, all from `@iommu-lab/wire` (type-only imports: no schema code in the
 * bundle). Where the wire leaves a document loose (`system`, `metrics`: the emulator's own shapes), the
 * views below say which of its fields the dashboard reads.
 */
import type { Static } from 'typebox';
import type {
  BindResult,
  CacheSnapshot,
  HandlerInfo,
  HistogramSummary,
  QueueSnapshot,
  SystemSnapshot,
  CompareResult,
  DeviceSpecSchema,
  DmaResult,
  DomainSpecSchema,
  ExperimentView,
  FaultRecordSchema,
  HandlerSpecSchema,
  IommuSpecSchema,
  LabDetail,
  MappingSpecSchema,
  PendingFaultView,
  PresetView,
  SaveLabBody,
  StartRunBody,
  TranslateResult,
  VmaSpecSchema,
  WireEvent,
  WorkloadResult,
  WorkloadSpecSchema,
} from '@iommu-lab/wire';

export type {
  ApiError,
  Clock,
  ClockAction,
  ClientMessage,
  CreateLab,
  DmaRequestBody,
  ExperimentFile,
  LabSummaryView,
  RunViewType as RunView,
  ServerMessage,
  StreamFilter,
  WireEvent,
} from '@iommu-lab/wire';

export type LabDetailView = Static<typeof LabDetail>;
export type Preset = Static<typeof PresetView>;
export type DmaOutcome = Static<typeof DmaResult>;
export type WorkloadOutcome = Static<typeof WorkloadResult>;
export type PendingFault = Static<typeof PendingFaultView>;
export type Comparison = Static<typeof CompareResult>;
export type Experiment = Static<typeof ExperimentView>;
export type FaultRecord = Static<typeof FaultRecordSchema>;
export type IommuSpec = Static<typeof IommuSpecSchema>;
export type DeviceSpec = Static<typeof DeviceSpecSchema>;
export type DomainSpec = Static<typeof DomainSpecSchema>;
export type MappingSpec = Static<typeof MappingSpecSchema>;
export type VmaSpec = Static<typeof VmaSpecSchema>;
export type HandlerSpec = Static<typeof HandlerSpecSchema>;
export type WorkloadSpec = Static<typeof WorkloadSpecSchema>;
export type StreamSpec = WorkloadSpec['streams'][number];
export type Bound = Static<typeof BindResult>;
export type Translation = Static<typeof TranslateResult>;
export type SaveLab = Static<typeof SaveLabBody>;
export type StartRun = Static<typeof StartRunBody>;

export type EventKind = WireEvent['kind'];
export type Feature = 'IOPF' | 'SVA' | 'AUX';
export type ResponseCode = 'SUCCESS' | 'INVALID' | 'FAILURE';
export type Category = 'BIND' | 'MAP';
export type Speed = number | 'max';

/** A cache's picture (IOTLB, ATC), a hardware queue's, a handler's, a latency summary: the emulator's. */
export type CacheView = CacheSnapshot;
export type QueueView = QueueSnapshot;
export type HandlerInfoView = HandlerInfo;
/** The lab's `system` snapshot (the emulator's SystemSnapshot). */
export type SystemView = SystemSnapshot;
export type DeviceView = SystemSnapshot['devices'][number];

/** GET /labs/:lab/iommus/:iommu: the snapshot's IOMMU plus its queues. */
export type IommuDetail = SystemView['iommus'][number] & {
  iotlb: CacheView;
  queues: Record<string, QueueView>;
};

/** One level of a page walk (GET /domains/:domain/walk). */
export interface WalkLevel {
  level: number;
  index: number;
  table: number;
  entry: 'table' | 'leaf' | 'empty' | string;
  output?: string;
  prot?: string;
  size?: string;
}
export interface WalkView {
  stage1?: WalkLevel[];
  stage2?: WalkLevel[];
}

/** A latency summary as the emulator's metrics give it. */
export type LatencySummary = HistogramSummary;

/** A run's histograms: for each name, sparse [lowerBound, count] bins. */
export type SparseHistograms = Record<string, [number, number][]>;
