/** A sweep point's label names each swept value by the last two keys of its path (a top-level one by its key). */
import { describe, expect, it } from 'vitest';
import { PRESETS } from '@iommu-lab/emulator';
import type { ExperimentConfig } from '@iommu-lab/wire';
import { expandSweep } from './sweep';

const preset = PRESETS.find((p) => p.id === 'sva-pri-vtd')!;
const config = { version: 1, system: preset.config, workload: preset.workload, seed: 1 } as ExperimentConfig;

describe('sweep point labels', () => {
  it('a top-level path is its key, a nested one its last two keys, in the order of the parameters', () => {
    const points = expandSweep(config, [
      { path: '/seed', values: [1, 2] },
      { path: '/system/devices/0/pri/capacity', values: [4] },
    ]);
    expect(points.map((point) => point.label)).toEqual(['seed=1 pri.capacity=4', 'seed=2 pri.capacity=4']);
    expect(points.map((point) => point.config.seed)).toEqual([1, 2]);
  });
});
