import { describe, expect, it } from 'vitest';
import { capture, expectRefused, systemWith } from '../testing/fixtures';
import { atcInvalidationSpan } from './iommu';

function warmed() {
  const s = systemWith('vtd', 'mainline', [{ id: 'nic0', ats: true, pasidBits: 8 }]);
  s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
  s.map('d', { iova: '0x0', size: 0x10000, prot: 'rw' });
  s.attach('nic0', 'd');
  s.attach('nic0', 'd', { pasid: 3 });
  for (let page = 0; page < 16; page++)
    s.dma({ device: 'nic0', address: page * 4096, length: 4, access: 'read' });
  for (let page = 0; page < 4; page++)
    s.dma({ device: 'nic0', pasid: 3, address: page * 4096, length: 4, access: 'read' });
  s.runUntilIdle();
  return s;
}

describe('IOTLB and ATC invalidation (reference §8)', () => {
  it('never uses a translation again after its unmap: the next DMA faults although it was cached', () => {
    const s = warmed();
    s.unmap('d', '0x5000', 0x1000);
    const tx = s.dma({ device: 'nic0', address: '0x5000', length: 4, access: 'read' });
    s.runUntilIdle();
    expect(tx.fault).toMatchObject({ fault: 'translation' });
  });

  it('invalidates the IOTLB before the ATC', () => {
    const s = warmed();
    const order: string[] = [];
    s.onAny((event) => order.push(event.kind));
    s.unmap('d', '0x5000', 0x1000);
    const iotlb = order.indexOf('iotlb.invalidated');
    expect(iotlb).toBeGreaterThanOrEqual(0);
    expect(order.indexOf('atc.invalidated')).toBeGreaterThan(iotlb);
  });

  it('widens ATC invalidations to the smallest self-aligned power-of-two span (pages 7..10 → 0..15)', () => {
    expect(atcInvalidationSpan(7, 11)).toEqual([0, 16]);
    expect(atcInvalidationSpan(4, 8)).toEqual([4, 8]);
    expect(atcInvalidationSpan(5, 6)).toEqual([5, 6]);
    const s = warmed();
    const atc = capture(s, 'atc.invalidated');
    s.unmap('d', '0x7000', 0x4000);
    expect(atc[0]).toMatchObject({ address: '0x0', pages: 16 });
    // Entries outside the unmapped range but inside the span went too: the device refetches them.
    expect(atc[0]!.entries).toBeGreaterThan(4);
  });

  it('explicit IOTLB invalidation by domain+PASID, domain, range and everything drops exactly those entries', () => {
    const s = warmed();
    const valid = () => s.describe().iommus[0]!.iotlb.valid;
    expect(valid()).toBe(20);
    expect(s.invalidateIotlb('iommu0', { domain: 'd', pasid: 3 })).toBe(4);
    expect(s.invalidateIotlb('iommu0', { domain: 'd', iova: '0x0', size: 0x2000 })).toBe(2);
    expect(s.invalidateIotlb('iommu0', { domain: 'd' })).toBe(14);
    expect(valid()).toBe(0);
    s.dma({ device: 'nic0', address: '0x0', length: 4, access: 'read' });
    s.runUntilIdle();
    expect(s.invalidateIotlb('iommu0')).toBe(0); // the ATC served it; the IOTLB was not refilled
  });

  it('an ATC invalidation without PASID hits every PASID', () => {
    const s = warmed();
    expect(s.invalidateAtc('nic0', { pasid: 3 })).toBe(4);
    expect(s.invalidateAtc('nic0')).toBe(16);
    expect(s.describe().devices[0]!.atc!.valid).toBe(0);
  });

  it('refuses invalid scopes, changing nothing', () => {
    const s = warmed();
    expectRefused(s, () => s.invalidateIotlb('iommu0', { pasid: 3 }), 'EINVAL', 'bad-scope');
    expectRefused(s, () => s.invalidateIotlb('iommu0', { size: 4096 }), 'EINVAL', 'bad-scope');
    s.addIommu({ id: 'other', family: 'vtd', profile: 'mainline' });
    expectRefused(s, () => s.invalidateIotlb('other', { domain: 'd' }), 'EINVAL', 'foreign-domain');
    s.addDevice({ id: 'noats', iommu: 'iommu0' });
    expectRefused(s, () => s.invalidateAtc('noats'), 'EINVAL', 'no-atc');
  });
});
