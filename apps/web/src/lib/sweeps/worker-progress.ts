/**
 * A sweep's progress per worker as chart rows (SweepView.workers): each worker's runs by how they stand,
 * labelled with the worker and "n runs, p %" (p: transactions ended over its runs' total).
 */
import type { SweepView } from '@iommu-lab/client';
import type { BarSegment } from '../charts/stacked-bars';

/** The segments of a worker's bar, in the order drawn, each with its legend label and colour. */
export const RUN_STANDINGS = [
  { key: 'done', label: 'done', color: '#15803d' },
  { key: 'running', label: 'running', color: '#1f5fbf' },
  { key: 'failed', label: 'failed', color: '#b91c1c' },
  { key: 'interrupted', label: 'interrupted', color: '#c2410c' },
  // A run whose worker was lost waits in the queue again, still counted on the worker that had it.
  { key: 'queued', label: 'queued again', color: '#94a3b8' },
] as const;

export interface WorkerBar {
  worker: string;
  /** "4 runs, 100 %". */
  note: string;
  segments: BarSegment[];
}

export function workerBars(workers: SweepView['workers']): WorkerBar[] {
  return workers.map((entry) => ({
    worker: entry.worker,
    note: `${entry.runs} ${entry.runs === 1 ? 'run' : 'runs'}, ${Math.floor(entry.progress * 100)} %`,
    segments: RUN_STANDINGS.map(({ key }) => ({
      key,
      value:
        key === 'queued'
          ? entry.runs - entry.done - entry.running - entry.failed - entry.interrupted
          : entry[key],
    })),
  }));
}

/** Runs of the sweep no worker has taken yet (they are on no bar). */
export function waitingRuns(sweep: SweepView): number {
  return sweep.runs.filter((run) => run.worker === null && run.status === 'queued').length;
}
