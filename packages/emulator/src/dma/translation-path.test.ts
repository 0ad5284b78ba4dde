import { describe, expect, it } from 'vitest';
import { capture, systemWith } from '../testing/fixtures';

const latency = {
  iotlbHitNs: 11,
  atcHitNs: 3,
  walkAccessNs: 100,
  atsRoundTripNs: 1000,
  transferBytesPerNs: 8,
};

function system(iotlb?: { entries: number; ways: number; replacement: 'lru' }) {
  const s = systemWith('vtd', 'mainline', [], { latency });
  if (iotlb) s.addIommu({ id: 'small', family: 'vtd', profile: 'mainline', capabilities: { iotlb } });
  const iommu = iotlb ? 'small' : 'iommu0';
  s.addDevice({ id: 'ats', iommu, ats: true });
  s.addDevice({ id: 'plain', iommu });
  s.createDomain({ id: 'd', iommu, type: 'dma' });
  s.map('d', { iova: '0x0', size: 0x100000, prot: 'rw' });
  s.attach('ats', 'd');
  s.attach('plain', 'd', { replace: true });
  return s;
}

function costs(
  s: ReturnType<typeof system>,
  device: string,
  address: string,
  access: 'read' | 'write' = 'read',
) {
  const pages = capture(s, 'dma.page');
  const tx = s.dma({ device, address, length: 64, access });
  s.runUntilIdle();
  return { tx, page: pages[0]! };
}

describe('ATC → IOTLB → walk, with costs from the latency model (reference §8, §10)', () => {
  it('an ATS device walks first (ATC miss + ATS round trip + 4 reads), then hits its ATC', () => {
    const s = system();
    const first = costs(s, 'ats', '0x1000');
    expect(first.page).toMatchObject({ source: 'walk', costNs: 3 + 1000 + 11 + 4 * 100 });
    // Transaction latency = translation + transfer of 64 bytes at 8 B/ns.
    expect(first.tx.latencyNs).toBe(3 + 1000 + 11 + 400 + 8);
    expect(costs(s, 'ats', '0x1000').page).toMatchObject({ source: 'atc', costNs: 3 });
  });

  it('a device without ATS hits the IOTLB the second time', () => {
    const s = system();
    expect(costs(s, 'plain', '0x2000').page).toMatchObject({ source: 'walk', costNs: 11 + 400 });
    expect(costs(s, 'plain', '0x2000').page).toMatchObject({ source: 'iotlb', costNs: 11 });
  });

  it('an ATC entry that does not allow the access sends the device back to the IOMMU', () => {
    const s = systemWith('vtd', 'mainline', [{ id: 'ats', ats: true }], { latency });
    s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
    s.map('d', { iova: '0x0', size: 0x1000, prot: 'r' });
    s.attach('ats', 'd');
    costs(s, 'ats', '0x0');
    const write = costs(s, 'ats', '0x0', 'write');
    expect(write.tx.fault).toMatchObject({ fault: 'permission-write' });
    expect(s.metrics().devices.ats!.translations.atcMisses).toBe(2);
  });

  it('an identity domain translates 1:1 at no cost', () => {
    const s = systemWith('vtd', 'mainline', [{ id: 'dev' }], { latency });
    s.createDomain({ id: 'id', iommu: 'iommu0', type: 'identity' });
    s.attach('dev', 'id');
    expect(costs(s, 'dev', '0x5000').page).toMatchObject({ source: 'identity', frame: '0x5000', costNs: 0 });
  });

  it('a working set bigger than a tiny IOTLB misses every time; one that fits hits', () => {
    const s = system({ entries: 4, ways: 4, replacement: 'lru' });
    const sweep = (first: number, pages: number) => {
      for (let round = 0; round < 3; round++) {
        for (let page = first; page < first + pages; page++)
          s.dma({ device: 'plain', address: page * 4096, length: 8, access: 'read' });
        s.runUntilIdle();
      }
    };
    sweep(0, 4);
    const fitting = s.describe().iommus.find((i) => i.id === 'small')!.iotlb;
    expect(fitting.misses).toBe(4);
    // Eight fresh pages cycled through four LRU entries: every access misses (3 rounds × 8).
    sweep(16, 8);
    const thrashing = s.describe().iommus.find((i) => i.id === 'small')!.iotlb;
    expect(thrashing.misses - fitting.misses).toBe(24);
  });
});
