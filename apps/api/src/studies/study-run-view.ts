/**
 * A study run as the API shows it (StudyRunView): its progress over the runs of its sweeps, and where its
 * report is; and the rows its report is made of (a run each, with its outcome, swept values and figures).
 * Finding one by id is a 404 when there is none.
 */
import type { FastifyInstance } from 'fastify';
import type { StudySpec } from '@iommu-lab/wire';
import { HttpError } from '../plugins/errors';
import { ANSWERED, countOutcomes, runOutcome, studyStatus } from './run-outcome';
import type { StudyRow } from './study-report';
import { figureOf, runFigures, shownValue, valueAt } from './study-values';

/** What a run contributes to a study run's view: how it stands, not its results (a storm's series is MBs). */
const RUN_STATE = {
  id: true,
  status: true,
  error: true,
  stoppedBy: true,
  transactions: true,
  totalTransactions: true,
} as const;
/** What a run contributes to the report: its state, its config (the swept values) and its figures. */
const RUN_RESULTS = {
  ...RUN_STATE,
  config: true,
  metrics: true,
  simulatedNs: true,
  faultRecords: true,
} as const;

const sweepsWith = <S extends object>(select: S) =>
  ({
    sweeps: { orderBy: { createdAt: 'asc' }, include: { runs: { orderBy: { createdAt: 'asc' }, select } } },
  }) as const;

/** What a study run's view is made from: its sweeps in the study's order, each with its runs' state. */
export const WITH_SWEEPS = sweepsWith(RUN_STATE);
const WITH_RESULTS = sweepsWith(RUN_RESULTS);

const found = <T>(run: T | null, id: string): T => {
  if (!run) throw new HttpError(404, 'ENOENT', `no study run "${id}".`, 'no-such-study-run');
  return run;
};

export const studyRun = async (app: FastifyInstance, id: string) =>
  found(await app.db.prisma.studyRun.findUnique({ where: { id }, include: WITH_SWEEPS }), id);

/** The study run with what its report is made from. */
export const studyRunResults = async (app: FastifyInstance, id: string) =>
  found(await app.db.prisma.studyRun.findUnique({ where: { id }, include: WITH_RESULTS }), id);

export type StudyRunRecord = Awaited<ReturnType<typeof studyRun>>;
export type StudyRunResults = Awaited<ReturnType<typeof studyRunResults>>;

export const viewOf = (app: FastifyInstance, run: StudyRunRecord) => {
  const runs = run.sweeps.flatMap((sweep) => sweep.runs.map((stored) => app.db.runs.view(stored)));
  // A run the emulator ended (a livelock, a refusal) is as complete as the study needs it.
  const ended = runs.reduce(
    (sum, r) => sum + (ANSWERED.has(runOutcome(r)) ? r.totalTransactions : r.transactions),
    0,
  );
  const total = runs.reduce((sum, r) => sum + r.totalTransactions, 0);
  const spec = run.spec as StudySpec;
  const base = `/api/v1/studies/runs/${run.id}`;
  return {
    id: run.id,
    name: run.name,
    title: run.title,
    engine: run.engine as 'local',
    status: studyStatus(runs.map(runOutcome)),
    progress: total > 0 ? ended / total : 0,
    runs: runs.length,
    done: runs.filter((r) => ANSWERED.has(runOutcome(r))).length,
    outcomes: countOutcomes(runs.map(runOutcome)),
    createdAt: run.createdAt.toISOString(),
    study:
      run.studyId !== null
        ? { saved: run.studyId, revision: run.revision! }
        : run.builtin !== null
          ? { builtin: run.builtin }
          : null,
    sweeps: run.sweeps.map((sweep, i) => ({ experiment: spec.experiments[i]!.label, sweep: sweep.id })),
    report: {
      html: `${base}/report`,
      csv: `${base}/data.csv`,
      charts: spec.charts.map((_, i) => `${base}/charts/${i}.svg`),
      png: spec.charts.map((_, i) => `${base}/charts/${i}.png`),
    },
  };
};

/** A row per run, in the study's order of experiments: what the report, its CSV and its charts show. */
export const studyRows = (app: FastifyInstance, run: StudyRunResults): StudyRow[] => {
  const spec = run.spec as StudySpec;
  return run.sweeps.flatMap((sweep, i) =>
    sweep.runs.map((stored) => {
      const view = app.db.runs.view(stored);
      const outcome = runOutcome(view);
      // A livelocked run's metrics are its counts up to the stop; /run/… reads the run itself.
      const figures =
        view.metrics && (outcome === 'done' || outcome === 'livelock')
          ? { ...(view.metrics as object), run: runFigures(view) }
          : null;
      return {
        experiment: spec.experiments[i]!.label,
        run: view.id,
        outcome,
        reason: view.error ?? null,
        values: Object.fromEntries(
          spec.parameters.map((p) => [p.path, shownValue(p, valueAt(view.config, p.path))]),
        ),
        metrics: Object.fromEntries(
          spec.metrics.map((m) => [m.pointer, figures ? figureOf(m, figures) : null]),
        ),
      };
    }),
  );
};
