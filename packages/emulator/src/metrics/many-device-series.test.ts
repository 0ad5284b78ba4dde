/**
 * Per-device bookkeeping kept compact (outstanding requests by device in one table, histograms that hold
 * only the bins they use) must answer exactly what the per-device arrays answered: a run of several PRI
 * devices on two IOMMUs, one reset midway, its series at the stored width and its metrics, against the
 * sha256 of the same run's answers recorded before that change.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { System } from '../system';

const BEFORE = {
  series: 'ace4531960f6a265a891e3c0570ff11d87576553c3eee8947f9072743e690093',
  metrics: 'cecb6c567a27b4bfcca89ec4a0747f58b178f003a5f067f231d0063a1c57868b',
};

function manyDeviceRun(): System {
  const system = new System({ seed: 7, memoryFrames: 2 ** 16 });
  for (const iommu of ['vtd0', 'vtd1'])
    system.addIommu({
      id: iommu,
      family: 'vtd',
      profile: 'mainline',
      capabilities: { pageRequestQueueDepth: 64 },
    });
  const streams = [];
  for (let d = 0; d < 6; d++) {
    const device = `dev${d}`;
    system.addDevice({
      id: device,
      iommu: `vtd${d % 2}`,
      ats: true,
      pri: { capacity: 4 + 4 * d },
      pasidBits: 20,
    });
    system.createProcess({ id: `p${d}` });
    system.mmap(`p${d}`, { address: '0x100000000', size: 2 ** 24, prot: 'rw' });
    const { pasid } = system.svaBind(device, `p${d}`);
    streams.push({
      device,
      pasid,
      pattern: d % 2 === 0 ? ('sequential' as const) : ('random' as const),
      base: '0x100000000',
      workingSet: 2 ** 24,
      accessSize: 4096 * (1 + (d % 3)),
      count: 150 + 40 * d,
      concurrency: 1 + d,
    });
  }
  system.runWorkload({ streams });
  system.runUntil(20_000);
  system.resetDevice('dev3');
  system.runUntilIdle();
  return system;
}

const sha256 = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

describe('per-device series and metrics of many devices', () => {
  it('answer what the per-device arrays answered', () => {
    const system = manyDeviceRun();
    const { series } = system.series({ binNs: 'stored' });
    expect(Object.keys(series.outstandingRequests)).toEqual(['dev0', 'dev1', 'dev2', 'dev3', 'dev4', 'dev5']);
    expect(Math.max(...series.outstandingRequests.dev5!.max)).toBeGreaterThan(1);
    expect(sha256(series)).toBe(BEFORE.series);
    expect(sha256(system.metrics())).toBe(BEFORE.metrics);
  });
});
