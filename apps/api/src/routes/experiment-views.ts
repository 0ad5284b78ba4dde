/**
 * Experiments and runs as the API shows them, finding one by id (404 when there is none), and the job
 * engine a request names (422 when it is not configured).
 */
import type { FastifyInstance } from 'fastify';
import type { Experiment, Run } from '@iommu-lab/db';
import type { RunAttemptType } from '@iommu-lab/wire';
import { HttpError } from '../plugins/errors';

export const WITH_RUN_COUNT = { _count: { select: { runs: true } } } as const;

export function experimentView(experiment: Experiment & { _count?: { runs: number } }) {
  return {
    id: experiment.id,
    name: experiment.name,
    description: experiment.description,
    tags: experiment.tags as string[],
    config: experiment.config as Record<string, unknown>,
    createdAt: experiment.createdAt.toISOString(),
    updatedAt: experiment.updatedAt.toISOString(),
    runs: experiment._count?.runs ?? 0,
  };
}

export function runView(run: Run) {
  return {
    id: run.id,
    experimentId: run.experimentId,
    label: run.label,
    seed: run.seed,
    status: run.status as 'queued',
    progress: run.progress,
    transactions: run.transactions,
    totalTransactions: run.totalTransactions,
    faultRecords: run.faultRecords,
    simulatedNs: run.simulatedNs,
    error: run.error,
    stoppedBy: run.stoppedBy as 'livelock' | null,
    metrics: run.metrics as Record<string, unknown> | null,
    histograms: run.histograms as Record<string, unknown> | null,
    config: run.config as Record<string, unknown>,
    createdAt: run.createdAt.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt?.toISOString() ?? null,
    sweepId: run.sweepId,
    engine: run.engine as 'local',
    worker: run.worker,
    attempts: (run.attempts as RunAttemptType[] | null) ?? [],
  };
}

/** A sweep's progress per worker, by the worker each run ran on last, in order of first start. */
export function sweepWorkers(runs: readonly Run[]) {
  const byWorker = new Map<
    string,
    {
      worker: string;
      runs: number;
      done: number;
      running: number;
      failed: number;
      interrupted: number;
      ended: number;
      total: number;
    }
  >();
  const started = runs
    .filter((run) => run.worker !== null)
    .sort((a, b) => (a.startedAt?.getTime() ?? 0) - (b.startedAt?.getTime() ?? 0));
  for (const run of started) {
    let entry = byWorker.get(run.worker!);
    if (!entry)
      byWorker.set(
        run.worker!,
        (entry = {
          worker: run.worker!,
          runs: 0,
          done: 0,
          running: 0,
          failed: 0,
          interrupted: 0,
          ended: 0,
          total: 0,
        }),
      );
    entry.runs++;
    if (
      run.status === 'done' ||
      run.status === 'running' ||
      run.status === 'failed' ||
      run.status === 'interrupted'
    )
      entry[run.status]++;
    entry.ended += run.transactions;
    entry.total += run.totalTransactions;
  }
  return [...byWorker.values()].map(({ ended, total, ...counts }) => ({
    ...counts,
    progress: total > 0 ? ended / total : 0,
  }));
}

/** The experiment, with its run count, or a 404. */
export async function findExperiment(app: FastifyInstance, id: string) {
  const experiment = await app.db.prisma.experiment.findUnique({ where: { id }, include: WITH_RUN_COUNT });
  if (!experiment) throw new HttpError(404, 'ENOENT', `no experiment "${id}".`, 'no-such-experiment');
  return experiment;
}

/** The run, or a 404. */
export async function findRun(app: FastifyInstance, id: string) {
  // Through the run store: an end the file could not take yet is shown all the same.
  const run = await app.db.runs.find(id);
  if (!run) throw new HttpError(404, 'ENOENT', `no run "${id}".`, 'no-such-run');
  return run;
}

/** The job engine named, or by default the queue when there is one (sweeps, studies); 422 when absent. */
export function findEngine(app: FastifyInstance, name?: 'local' | 'bullmq') {
  const engine = app.engines[name ?? (app.engines.bullmq ? 'bullmq' : 'local')];
  if (!engine)
    throw new HttpError(
      422,
      'ENOENGINE',
      'no BullMQ job engine is configured: start the server with REDIS_URL.',
      'no-engine',
    );
  return engine;
}
