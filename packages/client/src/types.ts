/**
 * The client's types, all derived from the shared wire schemas (`Static<typeof X>`): the schemas are
 * imported as types only, so nothing of TypeBox or the emulator is loaded at run time.
 */
import type { Static } from 'typebox';
import type * as W from '@iommu-lab/wire';

/** A loose JSON object: a picture of something whose full shape is the emulator's. */
export type Document = Static<typeof W.Document> & Record<string, unknown>;

/** The lab's `system` picture and its parts: the emulator's own shapes. */
export type SystemView = W.SystemSnapshot;
export type DeviceView = W.SystemSnapshot['devices'][number];
export type CacheView = W.CacheSnapshot;
export type QueueView = W.QueueSnapshot;
export type HandlerInfo = W.HandlerInfo;
export type LatencySummary = W.HistogramSummary;
/** GET /labs/:lab/iommus/:iommu: the picture's IOMMU plus its IOTLB and queues. */
export type IommuDetail = W.SystemSnapshot['iommus'][number] & {
  iotlb: CacheView;
  queues: Record<string, QueueView>;
};
/** One level of a page walk, and a walk of both stages (GET /labs/:lab/domains/:domain/walk). */
export type WalkLevel = W.WalkStep;
export interface WalkView {
  stage1?: WalkLevel[];
  stage2?: WalkLevel[];
  /** Each stage's entry format (VT-d first / second level, Arm stage 1 / 2): how `bits` were decoded. */
  format?: { stage1?: string; stage2?: string };
}

// ——— labs ———
export type CreateLabBody = W.CreateLab;
export type LabSummary = Static<typeof W.LabSummary>;
export type LabDetail = Static<typeof W.LabDetail>;
export type Clock = W.Clock;
/** A clock speed: simulated ns per wall ns, or as fast as the host goes. */
export type Speed = number | 'max';
export type ClockAction = W.ClockAction;
export type Preset = Static<typeof W.PresetView>;
export type SystemConfig = W.ExperimentConfig['system'];

// ——— topology ———
export type IommuSpec = Static<typeof W.IommuSpecSchema>;
export type DeviceSpec = Static<typeof W.DeviceSpecSchema>;
export type ProcessSpec = Static<typeof W.ProcessSpecSchema>;
export type VmaSpec = Static<typeof W.VmaSpecSchema>;
export type DomainSpec = Static<typeof W.DomainSpecSchema>;
export type MappingSpec = Static<typeof W.MappingSpecSchema>;
export type HandlerSpec = Static<typeof W.HandlerSpecSchema>;
export type WorkloadSpec = Static<typeof W.WorkloadSpecSchema>;
export type StreamSpec = WorkloadSpec['streams'][number];
export type Feature = Static<typeof W.FeatureParams>['feature'];
export type HandlerSlot = Static<typeof W.HandlerSlotParams>['slot'];
export type AttachBody = Static<typeof W.AttachBody>;
export type DetachBody = Static<typeof W.DetachBody>;
export type BindResult = Static<typeof W.BindResult>;
export type ProtectBody = Static<typeof W.ProtectBody>;
export type RangeBody = W.Range;
export type UnmapBody = Static<typeof W.UnmapBody>;
export type InvalidateIotlbBody = Static<typeof W.InvalidateIotlbBody>;
export type InvalidateAtcBody = Static<typeof W.InvalidateAtcBody>;
export type InvalidateResult = Static<typeof W.InvalidateResult>;
export type MappingResult = Static<typeof W.MappingResult>;
export type VmaResult = Static<typeof W.VmaResult>;
export type TranslateResult = Static<typeof W.TranslateResult>;
export type CountResult = Static<typeof W.CountResult>;

// ——— activity ———
export type DmaBody = W.DmaRequestBody;
/** One transaction's outcome; `events` are the events it caused, in order. */
export type DmaResult = Omit<Static<typeof W.DmaResult>, 'events' | 'fault'> & {
  fault: Document | null;
  events: WireEvent[];
};
export type WorkloadBody = Static<typeof W.WorkloadBody>;
export type WorkloadResult = Static<typeof W.WorkloadResult>;
export type ResponseCode = Static<typeof W.RespondBody>['code'];
export type PendingFault = Static<typeof W.PendingFaultView>;
export type EventPage = Static<typeof W.EventPage>;
export type EventKind = Static<typeof W.EventSchema>['kind'];
export type Category = NonNullable<Static<typeof W.PendingFaultView>['category']>;
/** History query: paging and the stream's filters; `kinds` as a list or comma-separated. */
export type HistoryQuery = Omit<Static<typeof W.EventQuery>, 'kinds'> & { kinds?: EventKind[] | string };
/** One ended fault flow: its anatomy record, every hop with its start and latency (summing to latencyNs). */
export type FlowRecord = W.FlowView;
export type FlowQuery = W.FlowQueryType;
export type FlowPage = Static<typeof W.FlowPage>;
/** One flow's story: its record, its events in order, its causes, its effects, the flow that replaced it. */
export type FlowDetail = Omit<W.FlowDetailView, 'events'> & { events: WireEvent[] };

// ——— the stream ———
export type WireEvent = W.WireEvent;
export type WireRecord = W.WireRecord;
export type WireLayout = W.WireLayout;
export type RecordLayouts = W.RecordLayouts;
export type StreamFilter = W.StreamFilter;
export type ClientMessage = W.ClientMessage;
export type ServerMessage = W.ServerMessage;
export type StreamEncoding = W.StreamEncoding;
export type EventLayout = W.EventLayout;
export type EventTuplesMessage = W.EventTuplesMessage;

// ——— experiments and runs ———
export type ExperimentConfig = W.ExperimentConfig;
export type ExperimentBody = W.ExperimentInput;
export type ExperimentPatch = Static<typeof W.ExperimentPatch>;
export type ExperimentView = Static<typeof W.ExperimentView>;
export type ExperimentFile = W.ExperimentFile;
export type SaveLabBody = Static<typeof W.SaveLabBody>;
export type SavedLabExperiment = ExperimentView & { omitted: string[] };
export type StartRunBody = Static<typeof W.StartRunBody>;
export type RunView = W.RunViewType;
export type RunStatus = RunView['status'];
export type FaultQuery = Omit<Static<typeof W.FaultQuery>, 'format'>;
export type FaultRecord = Static<typeof W.FaultRecordSchema>;
export type FaultPage = Static<typeof W.FaultPage>;
export type CompareResult = Static<typeof W.CompareResult>;
/** A run's histograms: for each name, sparse [lowerBound, count] bins. */
export type SparseHistograms = Record<string, [number, number][]>;

/** The run websocket's messages: the run as it is, then its progress until it ends. */
export type RunMessage =
  | { type: 'run'; run: RunView }
  | {
      type: 'progress';
      run: string;
      status: RunStatus;
      progress: number;
      transactions: number;
      totalTransactions: number;
      faultRecords: number;
      error?: string;
    };

// ——— sweeps and traces ———
export type SweepParameter = Static<typeof W.SweepParameterSchema>;
export type SweepEngine = (typeof W.JOB_ENGINES)[number];
/** The parameters (JSON pointers into the config, and their values), the engine, and a seed for every run. */
export type StartSweepBody = Static<typeof W.SweepBody>;
export type SweepView = Static<typeof W.SweepView>;
export type RunAttempt = W.RunAttemptType;
/** Studies (issue 16): a question over experiments, run as sweeps, answered by a report. */
export type StudySpec = W.StudySpec;
export type StudyRunBody = Static<typeof W.StudyRunBody>;
export type StudyRunView = W.StudyRunViewType;
export type StudyRunListQuery = Static<typeof W.StudyRunListQuery>;
/** A saved study (GET /studies/saved), and the file one is exported to. */
export type SavedStudyView = W.SavedStudyViewType;
export type StudyFile = W.StudyFile;
/** Queue workers (GET /workers): each process that takes runs from the BullMQ queue, and what it runs. */
export type WorkersView = W.WorkersViewType;
export type WorkerView = W.WorkerViewType;
/** One Chrome trace event (https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU). */
export interface TraceEvent {
  name: string;
  ph: string;
  ts?: number;
  dur?: number;
  pid: number;
  tid: number;
  cat?: string;
  s?: string;
  args?: Record<string, unknown>;
}
/** Chrome trace-event JSON, as Perfetto and chrome://tracing open it. */
export interface Trace {
  traceEvents: TraceEvent[];
  displayTimeUnit?: string;
  metadata?: { run?: string; seed?: number; events?: number; truncated?: boolean } & Record<string, unknown>;
}

export interface Health {
  status: string;
  labs: number;
  /** With REDIS_URL: the BullMQ queue's connection (status is "degraded" while it is unreachable). */
  queue?: { state: 'ready' | 'connecting' | 'unreachable'; error?: string; failures?: number };
}

/** The iommufd routes' bodies (the ioctls' arguments) and what the object list gives. */
export type IoasMapBody = Static<typeof W.IoasMapBody>;
export type HwptAllocBody = Static<typeof W.HwptAllocBody>;
export type AttachPtBody = Static<typeof W.AttachPtBody>;
export type DetachPtBody = Static<typeof W.DetachPtBody>;
export type ViommuAllocBody = Static<typeof W.ViommuAllocBody>;
export type VdeviceAllocBody = Static<typeof W.VdeviceAllocBody>;
export type VeventqAllocBody = Static<typeof W.VeventqAllocBody>;
export type IommufdObjectView = Static<typeof W.IommufdObjectView> & Record<string, unknown>;
