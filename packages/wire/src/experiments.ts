/**
 * Experiments (a saved config: system + workload + handler policy + seed), their runs, fault logs and
 * comparisons, and the file format experiments are exported to and imported from.
 */
import Type, { type Static } from 'typebox';
import {
  CategorySchema,
  ResponseCodeSchema,
  SystemConfigSchema,
  WorkloadSpecSchema,
  patterned,
} from '@iommu-lab/emulator/schemas';
import { Document, IdSchema } from './common';
import { FlowOutcomeSchema } from './flows';
import { CarriedRecordSchema } from './records';

export const EXPERIMENT_CONFIG_VERSION = 1;
export const EXPERIMENT_FILE_FORMAT = 'iommu-lab/experiment';

/** How a run answers what would otherwise wait for a person: groups left to an outside handler. */
export const HandlerPolicySchema = Type.Object(
  {
    /** Answer every group handed to an `external` handler at once with this code (default: let it time out). */
    externalResponse: Type.Optional(ResponseCodeSchema),
  },
  { additionalProperties: false },
);

export const ExperimentConfigSchema = Type.Object(
  {
    version: Type.Literal(EXPERIMENT_CONFIG_VERSION),
    system: SystemConfigSchema,
    workload: WorkloadSpecSchema,
    seed: Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 }),
    policy: Type.Optional(HandlerPolicySchema),
  },
  { additionalProperties: false, $id: 'ExperimentConfig' },
);
export type ExperimentConfig = Static<typeof ExperimentConfigSchema>;

const Tags = Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { maxItems: 32, uniqueItems: true });

export const ExperimentBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 120 }),
    description: Type.Optional(Type.String({ maxLength: 4000 })),
    tags: Type.Optional(Tags),
    config: ExperimentConfigSchema,
  },
  { additionalProperties: false },
);
export type ExperimentInput = Static<typeof ExperimentBody>;

export const ExperimentPatch = Type.Partial(ExperimentBody, { additionalProperties: false });

export const ExperimentParams = Type.Object({ experiment: Type.String({ minLength: 1, maxLength: 64 }) });
export const RunParams = Type.Object({ run: Type.String({ minLength: 1, maxLength: 64 }) });

export const ExperimentView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  tags: Type.Array(Type.String()),
  config: Document,
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  runs: Type.Integer({ description: 'How many runs it has.' }),
});

/** The file an experiment is exported to; importing checks `format` and `version` first. */
export const ExperimentFileSchema = Type.Object(
  {
    format: Type.Literal(EXPERIMENT_FILE_FORMAT),
    version: Type.Literal(EXPERIMENT_CONFIG_VERSION),
    exportedAt: Type.Optional(Type.String()),
    experiment: ExperimentBody,
  },
  { additionalProperties: false },
);
export type ExperimentFile = Static<typeof ExperimentFileSchema>;

export const StartRunBody = Type.Object(
  {
    /** Run with another seed than the experiment's. */
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
    label: Type.Optional(Type.String({ maxLength: 120 })),
    /** local (the default): the server's worker pool; bullmq: the Redis queue (when REDIS_URL is set). */
    engine: Type.Optional(Type.Enum(['local', 'bullmq'])),
  },
  { additionalProperties: false },
);

export const RUN_STATUSES = ['queued', 'running', 'done', 'failed', 'interrupted'] as const;

/** One time a worker took a run: a retry (after a lost worker or a lost Redis) resumes at the records on disk. */
export const RunAttempt = Type.Object({
  attempt: Type.Integer({ minimum: 1 }),
  worker: Type.String(),
  startedAt: Type.String({ format: 'date-time' }),
  /** Fault records already on disk when it started (it sends only those after them). */
  recordsAtStart: Type.Integer({ minimum: 0 }),
  endedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  /**
   * How it ended: as the run did; `lost` (its worker stopped answering, or another attempt took over); or
   * `refused` (the worker's versions differ from the job's, the reason says which); null while it runs.
   */
  end: Type.Union([Type.Enum(['done', 'failed', 'interrupted', 'lost', 'refused']), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
});
export type RunAttemptType = Static<typeof RunAttempt>;

export const RunView = Type.Object({
  id: Type.String(),
  experimentId: Type.String(),
  label: Type.String(),
  seed: Type.Integer(),
  status: Type.Enum([...RUN_STATUSES]),
  progress: Type.Number(),
  transactions: Type.Integer(),
  totalTransactions: Type.Integer(),
  faultRecords: Type.Integer({ description: 'Fault records on disk.' }),
  simulatedNs: Type.Number(),
  error: Type.Union([Type.String(), Type.Null()]),
  stoppedBy: Type.Union([Type.Enum(['livelock', 'refusal']), Type.Null()], {
    description:
      "A failed run the emulator's own rules ended, so it still answers its question: livelock (an overflow storm) or refusal (the config, or a step its kernel profile does not have). Null when it finished, or the machine failed it.",
  }),
  metrics: Type.Union([Document, Type.Null()]),
  histograms: Type.Union([Document, Type.Null()]),
  config: Document,
  createdAt: Type.String({ format: 'date-time' }),
  startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  sweepId: Type.Union([Type.String(), Type.Null()], { description: 'The sweep it is a point of, if any.' }),
  engine: Type.Enum(['local', 'bullmq'], { description: 'Where it was queued.' }),
  worker: Type.Union([Type.String(), Type.Null()], {
    description:
      'The worker that runs it, or ran it last (its id, as GET /workers lists it); null while queued.',
  }),
  attempts: Type.Array(RunAttempt, {
    description: 'Each time a worker took the run, first to last: a retry after a lost worker resumes it.',
  }),
});
export type RunViewType = Static<typeof RunView>;

/** Messages of a run's websocket (GET /runs/:run/stream): the run, then its progress until it ends. */
export type RunStreamMessage =
  | { type: 'run'; run: RunViewType }
  | {
      type: 'progress';
      run: string;
      status: (typeof RUN_STATUSES)[number];
      progress: number;
      transactions: number;
      totalTransactions: number;
      faultRecords: number;
      error?: string;
    };

export const FaultKindSchema = Type.Enum(['page-request', 'stall', 'unrecoverable', 'device-handled']);

const NullableNs = Type.Union([Type.Number(), Type.Null()]);
/** One column per hop of the flow, in the emulator's HOPS order; null where the hop did not apply. */
const HOP_FIELDS = {
  creditWaitNs: NullableNs,
  toIommuNs: NullableNs,
  queueWaitNs: NullableNs,
  groupWaitNs: NullableNs,
  dispatchNs: NullableNs,
  handlerNs: NullableNs,
  clientWaitNs: NullableNs,
  timeoutNs: NullableNs,
  responseWriteNs: NullableNs,
  toDeviceNs: NullableNs,
  overflowResponseNs: NullableNs,
  resumeNs: NullableNs,
  deviceDriverNs: NullableNs,
  mmFaultNs: NullableNs,
  retranslateNs: NullableNs,
};

export const FaultQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: -1 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    kind: Type.Optional(FaultKindSchema),
    device: Type.Optional(IdSchema),
    pasid: Type.Optional(Type.Integer({ minimum: 0 })),
    category: Type.Optional(CategorySchema),
    stage: Type.Optional(Type.Enum([1, 2])),
    code: Type.Optional(Type.String({ maxLength: 64 })),
    /** Unrecoverable faults whose hardware recorded this code (hex as the log shows it). */
    reason: Type.Optional(
      Type.String(patterned('^0x[0-9a-f]{2,4}$', 'a reason is the code in lowercase hex, e.g. 0x10 or 0x79')),
    ),
    outcome: Type.Optional(FlowOutcomeSchema),
    /** One fault flow's record (the emulator's flow id). */
    flow: Type.Optional(Type.Integer({ minimum: 1 })),
    /** json (a page, default), or a download of every matching record: csv or jsonl. */
    format: Type.Optional(Type.Enum(['json', 'csv', 'jsonl'])),
  },
  { additionalProperties: false },
);

export const FaultRecordSchema = Type.Object({
  seq: Type.Integer(),
  timeNs: Type.Number(),
  device: Type.String(),
  pasid: Type.Union([Type.Integer(), Type.Null()]),
  address: Type.String(),
  access: Type.String(),
  category: Type.Union([Type.String(), Type.Null()]),
  stage: Type.Union([Type.Integer(), Type.Null()]),
  kind: Type.String(),
  code: Type.String(),
  /** The fault's flow end to end: translation failed → DMA resumed or failed. */
  latencyNs: Type.Union([Type.Number(), Type.Null()]),
  flow: Type.Integer(),
  transaction: Type.Union([Type.Integer(), Type.Null()]),
  group: Type.Union([Type.Integer(), Type.Null()]),
  handler: Type.Union([Type.String(), Type.Null()]),
  cause: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.String(),
  endNs: Type.Number(),
  /** Flow ids it followed from, comma-separated. */
  causes: Type.String(),
  replaces: Type.Union([Type.Integer(), Type.Null()]),
  replacedBecause: Type.Union([Type.String(), Type.Null()]),
  ...HOP_FIELDS,
  handlerMmFaultNs: NullableNs,
  handlerMapNs: NullableNs,
  handlerEvictionNs: NullableNs,
  handlerGuestNs: NullableNs,
  /**
   * An unrecoverable fault's code as its hardware recorded it, in hex: VT-d fault reason (FRCD.FR) or SMMUv3
   * event ID, e.g. "0x10"; `code` holds its name. Null for other faults, where the hardware records nothing
   * (SMMUv3 abort STE), and in records saved before the column existed.
   */
  reason: Type.Union([Type.String(), Type.Null()]),
  /**
   * What the device, the IOMMU, the kernel and user space wrote for the fault, byte for byte, in the order
   * its flow lists them: each record's layout, hex and field values as events carry them (records.ts).
   * [] when the flow wrote none; null in records saved before the column existed. A CSV has them as
   * `layout:hex`, separated by spaces.
   */
  records: Type.Union([Type.Array(CarriedRecordSchema), Type.Null()]),
});

export const FaultPage = Type.Object({
  records: Type.Array(FaultRecordSchema),
  /** `after` for the next page; -1 when this one is empty. */
  next: Type.Integer(),
  total: Type.Integer({ description: 'Matching records in all.' }),
});

export const CompareQuery = Type.Object(
  { runs: Type.String({ description: 'Two or more run ids, comma-separated.', minLength: 3 }) },
  { additionalProperties: false },
);

export const CompareResult = Type.Object({
  runs: Type.Array(Type.Object({ id: Type.String(), label: Type.String(), experiment: Type.String() })),
  /**
   * Every scalar metric, per run, with the delta and ratio of each run to the first, and where it was
   * counted (a scope: an IOMMU's or a device's id). Series are never metrics: they are in `series`.
   * Derived beside the counters, in every scope: throughput/transactionsPerMs and throughput/megabytesPerS
   * (per simulated time), translations/iotlbHitRate and translations/atcHitRate (0…1), faults/byOutcome/*.
   */
  metrics: Type.Array(
    Type.Object({
      path: Type.String(),
      group: Type.Enum(['system', 'iommu', 'device']),
      scope: Type.Union([Type.String(), Type.Null()]),
      values: Type.Array(Type.Union([Type.Number(), Type.Null()])),
      deltas: Type.Array(Type.Union([Type.Number(), Type.Null()])),
      ratios: Type.Array(Type.Union([Type.Number(), Type.Null()])),
    }),
  ),
  /** Each histogram on the union of the runs' bins (the emulator's bins are fixed, so they line up). */
  histograms: Type.Record(
    Type.String(),
    Type.Object({ bins: Type.Array(Type.Number()), counts: Type.Array(Type.Array(Type.Number())) }),
  ),
  /** Where the fault time went: each hop of the fault flows, per run (null where a run had no such hop). */
  hops: Type.Array(
    Type.Object({
      hop: Type.String(),
      count: Type.Array(Type.Union([Type.Number(), Type.Null()])),
      meanNs: Type.Array(Type.Union([Type.Number(), Type.Null()])),
      p50Ns: Type.Array(Type.Union([Type.Number(), Type.Null()])),
      p99Ns: Type.Array(Type.Union([Type.Number(), Type.Null()])),
      /** The hop's share of all the time the run's fault flows spent, 0…1. */
      share: Type.Array(Type.Union([Type.Number(), Type.Null()])),
    }),
  ),
  /**
   * Each run's series in simulated time on one bin width, to overlay: `time[i]` places run i's bins (null:
   * the run stored no series); each line holds per run a value per bin (counts as rates per µs, hit rates
   * in %, levels as they are), null for a run without it. Lines zero in every run are left out.
   */
  series: Type.Object({
    time: Type.Array(
      Type.Union([
        Type.Object({ startNs: Type.Number(), binNs: Type.Number(), bins: Type.Integer() }),
        Type.Null(),
      ]),
    ),
    lines: Type.Array(
      Type.Object({
        key: Type.String(),
        label: Type.String(),
        unit: Type.String(),
        values: Type.Array(Type.Union([Type.Array(Type.Union([Type.Number(), Type.Null()])), Type.Null()])),
      }),
    ),
  }),
  /** Config paths whose values differ between runs. */
  configDiff: Type.Array(Type.Object({ path: Type.String(), values: Type.Array(Type.Unknown()) })),
});

export const SaveLabBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 120 }),
    description: Type.Optional(Type.String({ maxLength: 4000 })),
    tags: Type.Optional(Tags),
    /** The workload runs will execute (default: the preset's, or none given: refused). */
    workload: Type.Optional(WorkloadSpecSchema),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
    policy: Type.Optional(HandlerPolicySchema),
  },
  { additionalProperties: false },
);

/** One swept parameter: a JSON pointer into the experiment config and the values it takes. */
export const SweepParameterSchema = Type.Object(
  {
    path: Type.String({
      ...patterned(
        '^(/[^/]+)+$',
        'a path is a JSON pointer into the experiment, e.g. /workload/streams/0/workingSet',
      ),
      maxLength: 200,
      description:
        'e.g. "/system/devices/0/pri/capacity" or "/workload/streams/0/workingSet"; "*" for every element, as in "/system/devices/*/pri/capacity".',
    }),
    values: Type.Array(Type.Unknown(), { minItems: 1, maxItems: 64 }),
  },
  { additionalProperties: false },
);

export const JOB_ENGINES = ['local', 'bullmq'] as const;

export const SweepBody = Type.Object(
  {
    parameters: Type.Array(SweepParameterSchema, { minItems: 1, maxItems: 4 }),
    /** local: the server's worker pool; bullmq: the Redis queue (when REDIS_URL is set; the default then). */
    engine: Type.Optional(Type.Enum([...JOB_ENGINES])),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
  },
  { additionalProperties: false },
);

export const SweepParams = Type.Object({ sweep: Type.String({ minLength: 1, maxLength: 64 }) });

export const SweepView = Type.Object({
  id: Type.String(),
  experimentId: Type.String(),
  parameters: Type.Array(SweepParameterSchema),
  engine: Type.Enum([...JOB_ENGINES]),
  status: Type.Enum(['running', 'done', 'failed']),
  createdAt: Type.String({ format: 'date-time' }),
  /** One run per combination of values, labelled with its values. */
  runs: Type.Array(RunView),
  /** Progress per worker: the runs each worker ran or runs (by the run's worker), in order of first start. */
  workers: Type.Array(
    Type.Object({
      worker: Type.String(),
      runs: Type.Integer(),
      done: Type.Integer(),
      running: Type.Integer(),
      failed: Type.Integer(),
      interrupted: Type.Integer(),
      /** Transactions ended / total over its runs, 0…1. */
      progress: Type.Number(),
    }),
  ),
});

/** The versions a queue worker runs; a job names the ones it needs, and a worker that differs refuses it. */
export const WorkerVersion = Type.Object({
  /** The job protocol between server and workers (what travels through Redis). */
  protocol: Type.Integer(),
  /** The experiment config format (ExperimentConfig's `version`). */
  configVersion: Type.Integer(),
  /** The emulator package's version: a run's records depend on it. */
  emulator: Type.String(),
});
export type WorkerVersionType = Static<typeof WorkerVersion>;

/** A queue worker process (`npm run worker -w @iommu-lab/api`, or the server's own), as GET /workers lists it. */
export const WorkerView = Type.Object({
  id: Type.String({
    description: 'host:pid:random, unique per process start; "server" marks the server\'s own.',
  }),
  host: Type.String(),
  pid: Type.Integer(),
  /** Cores of its machine, and how many runs it executes at once. */
  cores: Type.Integer(),
  concurrency: Type.Integer(),
  version: WorkerVersion,
  startedAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  /** connected: heartbeats arrive; lost: they stopped (killed, machine or network gone); its runs were interrupted. */
  state: Type.Enum(['connected', 'lost']),
  /** True for the server's own queue worker (in the API process). */
  inServer: Type.Boolean(),
  runs: Type.Array(
    Type.Object({
      run: Type.String(),
      sweep: Type.Union([Type.String(), Type.Null()]),
      label: Type.String(),
      attempt: Type.Integer(),
      progress: Type.Number(),
    }),
  ),
});
export type WorkerViewType = Static<typeof WorkerView>;

export const WorkersView = Type.Object({
  /** The BullMQ engine's Redis connection; null when the server has no REDIS_URL (then there are no workers). */
  queue: Type.Union([
    Type.Object({
      state: Type.Enum(['ready', 'connecting', 'unreachable']),
      error: Type.Optional(Type.String()),
      failures: Type.Optional(Type.Integer()),
    }),
    Type.Null(),
  ]),
  workers: Type.Array(WorkerView),
});
export type WorkersViewType = Static<typeof WorkersView>;
