import { describe, expect, it } from 'vitest';
import type { RunView } from '@iommu-lab/client';
import { groupBySweep } from './group-runs';

const run = (id: string, sweepId: string | null = null) => ({ id, sweepId }) as RunView;

describe('an experiment’s runs grouped under their sweeps', () => {
  it('keeps the runs’ order, a sweep where its first run is, its runs together', () => {
    const groups = groupBySweep([run('r5'), run('r4', 's2'), run('r3', 's1'), run('r2', 's2'), run('r1')]);
    expect(
      groups.map((g) => (g.kind === 'run' ? g.run.id : `${g.sweepId}[${g.runs.map((r) => r.id)}]`)),
    ).toEqual(['r5', 's2[r4,r2]', 's1[r3]', 'r1']);
  });

  it('runs of no sweep stay as they are', () => {
    expect(groupBySweep([run('a'), run('b')])).toEqual([
      { kind: 'run', run: run('a') },
      { kind: 'run', run: run('b') },
    ]);
  });
});
