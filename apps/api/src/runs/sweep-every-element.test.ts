/** A `*` key in a sweep path sets the value in every element there: one capacity for every device. */
import { describe, expect, it } from 'vitest';
import { PRESETS } from '@iommu-lab/emulator';
import type { ExperimentConfig } from '@iommu-lab/wire';
import { expandSweep } from './sweep';

const preset = PRESETS.find((p) => p.id === 'sva-mainline')!;
const config = { version: 1, system: preset.config, workload: preset.workload, seed: 1 } as ExperimentConfig;

describe('a sweep path with *', () => {
  it('sets every device, and leaves the rest of the config as it was', () => {
    const points = expandSweep(config, [{ path: '/system/devices/*/pri/capacity', values: [4, 256] }]);
    expect(points.map((point) => point.config.system.devices!.map((d) => d.pri?.capacity))).toEqual([
      [4, 4],
      [256, 256],
    ]);
    expect(points[0]!.label).toBe('pri.capacity=4');
    expect({ ...points[1]!.config.system, devices: [] }).toEqual({ ...config.system, devices: [] });
    expect(config.system.devices!.map((d) => d.pri?.capacity)).toEqual([64, 64]);
  });

  it('under an empty array or a missing key is refused with the path', () => {
    const bare = { ...config, system: { ...config.system, processes: [] } } as ExperimentConfig;
    for (const path of ['/system/processes/*/id', '/system/nothing/*/id'])
      expect(() => expandSweep(bare, [{ path, values: ['x'] }])).toThrow(
        expect.objectContaining({ reason: 'no-such-path', path }),
      );
  });
});
