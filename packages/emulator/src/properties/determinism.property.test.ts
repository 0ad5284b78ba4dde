import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildSystem } from '../config/build-system';
import type { SystemConfig } from '../config/system-config';
import { PRESETS } from '../presets/presets';
import { type Op, type World, ReferenceModel, opArbitrary, runAndCheck } from './harness';

/** SVA over PRI with faults in flight, random replacement everywhere, so the seed matters. */
function config(seed: number): SystemConfig {
  return {
    version: 1,
    options: { seed, memoryFrames: 8192 },
    iommus: [
      {
        id: 'vtd',
        family: 'vtd',
        profile: 'mainline',
        capabilities: { iotlb: { entries: 16, ways: 4, replacement: 'random' } },
      },
    ],
    devices: [
      {
        id: 'nic',
        iommu: 'vtd',
        ats: true,
        pri: { capacity: 4 },
        pasidBits: 8,
        atc: { entries: 8, ways: 4, replacement: 'random' },
      },
      { id: 'plain', iommu: 'vtd', pasidBits: 8 },
    ],
    processes: [{ id: 'app', vmas: [{ address: '0x7f0000000000', size: 64 * 4096, prot: 'rw' }] }],
    domains: [{ id: 'a', iommu: 'vtd', type: 'dma' }],
    attachments: [{ device: 'plain', domain: 'a' }],
    bindings: [{ device: 'nic', process: 'app' }],
  };
}

const WORLD: World = {
  devices: ['nic', 'plain'],
  domains: ['a'],
  pasids: [null, 1],
  pages: 16,
  userBase: 0x7f0000000,
};

function trace(seed: number, ops: Op[]): string {
  const system = buildSystem(config(seed));
  const hash = createHash('sha256');
  let events = 0;
  system.onAny((event) => {
    hash.update(JSON.stringify(event));
    events++;
  });
  const model = new ReferenceModel();
  model.attach('plain', null, 'a');
  runAndCheck(system, WORLD, model, ops);
  system.runWorkload({
    streams: [
      {
        device: 'nic',
        pasid: 1,
        pattern: 'hotspot',
        base: '0x7f0000000000',
        workingSet: 64 * 4096,
        count: 40,
        concurrency: 4,
        readFraction: 0.5,
      },
    ],
  });
  system.runUntilIdle();
  hash.update(JSON.stringify(system.metrics()));
  return `${events}:${hash.digest('hex')}`;
}

describe('property: determinism', () => {
  it('the same config, seed and inputs give an identical event trace, faults in flight included', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(opArbitrary(WORLD), { minLength: 20, maxLength: 80 }),
        (seed, ops) => {
          expect(trace(seed, ops)).toBe(trace(seed, ops));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a different seed changes the trace where randomness is used', () => {
    const ops: Op[] = [{ op: 'run', steps: 0 }];
    expect(trace(1, ops)).not.toBe(trace(2, ops));
  });

  it('every preset replays to the same metrics', () => {
    for (const preset of PRESETS) {
      const run = () => {
        const system = buildSystem(preset.config);
        system.runWorkload(preset.workload);
        system.runUntilIdle();
        return JSON.stringify(system.metrics());
      };
      expect(run(), preset.id).toBe(run());
    }
  });
});
