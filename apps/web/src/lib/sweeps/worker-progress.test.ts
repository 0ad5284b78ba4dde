import { describe, expect, it } from 'vitest';
import type { RunView, SweepView } from '@iommu-lab/client';
import { waitingRuns, workerBars } from './worker-progress';

const counts = { done: 0, running: 0, failed: 0, interrupted: 0 };

describe('a sweep’s progress per worker, as bars', () => {
  it('labels each worker’s bar with its runs and the share of their transactions ended', () => {
    const [bar] = workerBars([{ worker: 'server', runs: 4, ...counts, done: 4, progress: 1 }]);
    expect(bar).toMatchObject({ worker: 'server', note: '4 runs, 100 %' });
    expect(bar!.segments.find((s) => s.key === 'done')?.value).toBe(4);
    expect(workerBars([{ worker: 'w', runs: 1, ...counts, running: 1, progress: 0.5 }])[0]!.note).toBe(
      '1 run, 50 %',
    );
  });

  it('says 99 %, not 100 %, until every transaction has ended', () => {
    expect(workerBars([{ worker: 'w', runs: 2, ...counts, running: 1, progress: 0.996 }])[0]!.note).toBe(
      '2 runs, 99 %',
    );
  });

  it('a run re-queued after its worker was lost stays on that worker’s bar, as queued again', () => {
    const [bar] = workerBars([{ worker: 'w', runs: 3, ...counts, done: 1, interrupted: 1, progress: 0.6 }]);
    expect(Object.fromEntries(bar!.segments.map((s) => [s.key, s.value]))).toEqual({
      done: 1,
      running: 0,
      failed: 0,
      interrupted: 1,
      queued: 1,
    });
  });

  it('counts the runs no worker has taken yet', () => {
    const run = (worker: string | null, status: RunView['status']) => ({ worker, status }) as RunView;
    const sweep = { runs: [run(null, 'queued'), run(null, 'queued'), run('w', 'queued'), run('w', 'done')] };
    expect(waitingRuns(sweep as SweepView)).toBe(2);
  });
});
