/** Experiments and runs as the API shows them, and finding one by id (404 when there is none). */
import type { FastifyInstance } from 'fastify';
import type { Experiment, Run } from '@iommu-lab/db';
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
    metrics: run.metrics as Record<string, unknown> | null,
    histograms: run.histograms as Record<string, unknown> | null,
    config: run.config as Record<string, unknown>,
    createdAt: run.createdAt.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt?.toISOString() ?? null,
  };
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
