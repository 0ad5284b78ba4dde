/**
 * Studies (issue 16): a named question over one or more experiments, with the parameters to sweep, the
 * metrics to read from each run and the charts to draw; its result is a report (HTML with the charts as
 * SVG, and the data as CSV). A study runs as one sweep per experiment, on a job engine.
 */
import Type, { type Static } from 'typebox';
import { patterned } from '@iommu-lab/emulator/schemas';
import { ExperimentConfigSchema, JOB_ENGINES } from './experiments';

export const STUDY_FORMAT = 'iommu-lab/study';
export const STUDY_VERSION = 1;
/** Runs a study may make: every experiment × every combination of the swept values. */
export const MAX_STUDY_RUNS = 256;

const Pointer = (description: string) =>
  Type.String({
    ...patterned('^(/[^/]+)+$', 'a JSON pointer, e.g. /workload/streams/0/workingSet'),
    maxLength: 200,
    description,
  });

export const StudyParameterSchema = Type.Object(
  {
    path: Pointer('Where in each experiment config the values go.'),
    /** Checked by the study (422 with the path) rather than the schema, so an empty list names its path. */
    values: Type.Array(Type.Unknown(), { maxItems: 64 }),
    label: Type.String({ maxLength: 80, description: 'The axis title, e.g. "IOTLB entries".' }),
    unit: Type.String({ maxLength: 20, description: 'e.g. "entries", "pages", "KiB"; "" when it has none.' }),
    /** Values are shown (charts, CSV, tables) multiplied by this: 1/1048576 with unit "MiB" for bytes. */
    scale: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  },
  { additionalProperties: false },
);

export const StudyMetricSchema = Type.Object(
  {
    /**
     * A JSON pointer into a run's metrics (GET /runs/:run), e.g. /system/dmaLatencyNs/p50, or into the run
     * itself under /run/ (simulatedNs, transactions, totalTransactions, faultRecords).
     */
    pointer: Pointer("Where in a run's metrics the figure is."),
    /** A ratio: the figure divided by the sum of these (hits / (hits + misses)). */
    divideBy: Type.Optional(Type.Array(Pointer("A run's metric."), { minItems: 1, maxItems: 4 })),
    /** A product: the figure times each of these (a mean times its count is a total). */
    multiplyBy: Type.Optional(Type.Array(Pointer("A run's metric."), { minItems: 1, maxItems: 4 })),
    /** Multiplies the figure (100 for a percentage, 1e-3 for ns as µs). */
    scale: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** The figure of a run that has none (0 for a count kept by key, absent until it first happens). */
    absent: Type.Optional(Type.Number()),
    label: Type.String({ maxLength: 80 }),
    unit: Type.String({ maxLength: 20 }),
  },
  { additionalProperties: false },
);

export const StudyChartSchema = Type.Object(
  {
    title: Type.String({ maxLength: 120 }),
    /** The x axis: a swept parameter's path. */
    x: Pointer('A swept parameter.'),
    /** The y axis: a metric's pointer. */
    y: Pointer('A metric of the study.'),
    /** One line per value of this swept parameter, or per experiment ("experiment"); one line if absent. */
    series: Type.Optional(Type.String({ maxLength: 200 })),
    xScale: Type.Optional(Type.Enum(['linear', 'log'])),
    /** Only the runs where these swept parameters (or "experiment", by label) have these values. */
    where: Type.Optional(Type.Record(Type.String({ maxLength: 200 }), Type.Unknown())),
  },
  { additionalProperties: false },
);

export const StudySpecSchema = Type.Object(
  {
    format: Type.Literal(STUDY_FORMAT),
    version: Type.Literal(STUDY_VERSION),
    name: Type.String({
      ...patterned('^[a-z0-9][a-z0-9-]{0,63}$', 'lower case, digits and dashes'),
      maxLength: 64,
    }),
    title: Type.String({ maxLength: 160 }),
    /** What it shows, and which rule or source each default comes from. */
    description: Type.String({ maxLength: 4000 }),
    experiments: Type.Array(
      Type.Object(
        { label: Type.String({ maxLength: 80 }), config: ExperimentConfigSchema },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 8 },
    ),
    parameters: Type.Array(StudyParameterSchema, { minItems: 1, maxItems: 4 }),
    metrics: Type.Array(StudyMetricSchema, { minItems: 1, maxItems: 16 }),
    charts: Type.Array(StudyChartSchema, { minItems: 1, maxItems: 8 }),
  },
  { additionalProperties: false },
);
export type StudySpec = Static<typeof StudySpecSchema>;

export const STUDY_FILE_FORMAT = 'iommu-lab/study-file';
export const STUDY_FILE_VERSION = 1;

/** A saved study by its id (GET /studies/saved). */
export const SavedStudyRef = Type.Object(
  { saved: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);

export const StudyRunBody = Type.Object(
  {
    /** A built-in study's name (GET /studies), a saved study ({saved: id}), or a whole study. */
    study: Type.Union([Type.String({ maxLength: 64 }), SavedStudyRef, StudySpecSchema]),
    /** Values to sweep instead of the study's, by parameter path. */
    set: Type.Optional(
      Type.Record(Type.String({ maxLength: 200 }), Type.Array(Type.Unknown(), { maxItems: 64 })),
    ),
    engine: Type.Optional(Type.Enum([...JOB_ENGINES])),
  },
  { additionalProperties: false },
);
export type StudyRunBodyType = Static<typeof StudyRunBody>;

export const StudyRunView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  title: Type.String(),
  engine: Type.Enum([...JOB_ENGINES]),
  status: Type.Enum(['running', 'done', 'failed']),
  /** Transactions ended / total over its runs, 0…1; a run the emulator ended (livelock, refusal) counts whole. */
  progress: Type.Number(),
  runs: Type.Integer(),
  /** Runs that answered: done, or ended by the emulator's rules (a livelock, a profile's refusal). */
  done: Type.Integer(),
  /** Its runs by outcome (done, livelock, refused, failed, interrupted, running, queued); only those it has. */
  outcomes: Type.Record(Type.String(), Type.Integer()),
  createdAt: Type.String({ format: 'date-time' }),
  /**
   * What it ran: a saved study at a revision, a built-in by name, or null for a study posted whole (and for
   * a saved study deleted since).
   */
  study: Type.Union([
    Type.Object({ saved: Type.String(), revision: Type.Integer({ minimum: 1 }) }),
    Type.Object({ builtin: Type.String() }),
    Type.Null(),
  ]),
  /** One sweep per experiment, in the study's order. */
  sweeps: Type.Array(Type.Object({ experiment: Type.String(), sweep: Type.String() })),
  /** Where the report is: the HTML page, the data as CSV, each chart as SVG and as PNG. */
  report: Type.Object({
    html: Type.String(),
    csv: Type.String(),
    charts: Type.Array(Type.String()),
    png: Type.Array(Type.String()),
  }),
});
export type StudyRunViewType = Static<typeof StudyRunView>;

export const StudyRunParams = Type.Object({ study: Type.String({ minLength: 1, maxLength: 64 }) });

/** GET /studies/runs: newest first, at most `limit`, only the study runs of that study name if given. */
export const StudyRunListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    name: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

/** A saved study: its spec at its latest revision (1 when saved, one more at each PUT). */
export const SavedStudyView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  title: Type.String(),
  revision: Type.Integer({ minimum: 1 }),
  spec: StudySpecSchema,
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  /** How many study runs it has had. */
  runs: Type.Integer(),
});
export type SavedStudyViewType = Static<typeof SavedStudyView>;

export const SavedStudyParams = Type.Object({ study: Type.String({ minLength: 1, maxLength: 64 }) });

/** The file a saved study is exported to; importing checks `format` and `version` first. */
export const StudyFileSchema = Type.Object(
  {
    format: Type.Literal(STUDY_FILE_FORMAT),
    version: Type.Literal(STUDY_FILE_VERSION),
    exportedAt: Type.Optional(Type.String()),
    /** The revision exported (an import starts its own, at 1). */
    revision: Type.Optional(Type.Integer({ minimum: 1 })),
    study: StudySpecSchema,
  },
  { additionalProperties: false },
);
export type StudyFile = Static<typeof StudyFileSchema>;
