import { describe, expect, it } from 'vitest';
import { systemWith } from '../testing/fixtures';

describe('metrics: counters and latency histograms per system, device and IOMMU', () => {
  it('counts outcomes, pages, bytes, translation sources and faults, and summarises latency', () => {
    const s = systemWith('vtd', 'mainline', [{ id: 'a', ats: true }, { id: 'b' }]);
    s.addIommu({ id: 'iommu1', family: 'smmuv3', profile: 'mainline' });
    s.addDevice({ id: 'c', iommu: 'iommu1', kind: 'platform' });
    s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
    s.map('d', { iova: '0x0', size: 0x4000, prot: 'rw' });
    s.attach('a', 'd');
    s.attach('b', 'd', { replace: true });
    const latencies: number[] = [];
    const run = (device: string, address: number, length: number) => {
      const tx = s.dma({
        device,
        address,
        length,
        access: 'read',
        onEnd: (t) => latencies.push(t.latencyNs),
      });
      s.runUntilIdle();
      return tx;
    };
    run('a', 0, 0x2000); // 2 pages, walks
    run('a', 0, 0x2000); // 2 pages, ATC hits
    run('b', 0, 0x1000); // IOTLB hit
    run('b', 0x8000, 8); // fault
    run('c', 0, 8); // blocked fault on the other IOMMU
    const m = s.metrics();
    expect(m.system.transactions).toEqual({ completed: 3, faulted: 2, aborted: 0 });
    expect(m.devices.a).toMatchObject({
      pages: 4,
      bytes: 0x4000,
      translations: { atcHits: 2, atcMisses: 2, walks: 2 },
    });
    expect(m.devices.b!.translations).toMatchObject({ iotlbHits: 1, walks: 1 });
    expect(m.iommus.iommu0!.transactions).toEqual({ completed: 3, faulted: 1, aborted: 0 });
    expect(m.iommus.iommu1!.faultsByKind).toEqual({ blocked: 1 });
    // mainline VT-d DMA domains are first-level: a miss is 0x71.
    expect(m.system.faultsByReason).toEqual({
      'SM: Present bit in first-level paging entry is clear': 1,
      'STE.Config abort (no event recorded)': 1,
    });
    const sorted = [...latencies].sort((x, y) => x - y);
    expect(m.system.dmaLatencyNs.count).toBe(5);
    expect(m.system.dmaLatencyNs.max).toBe(sorted.at(-1));
    expect(m.system.dmaLatencyNs.min).toBe(sorted[0]);
    expect(m.system.dmaLatencyNs.p50).toBeLessThanOrEqual(sorted[2]!);
    expect(m.system.dmaLatencyNs.p50).toBeGreaterThan(sorted[2]! * (1 - 1 / 32) - 1);
  });
});
