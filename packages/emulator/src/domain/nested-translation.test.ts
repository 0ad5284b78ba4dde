import { describe, expect, it } from 'vitest';
import { capture, systemWith } from '../testing/fixtures';

/** A guest mapping GVA 0x10000 → GPA 0x200000 over a host mapping GPA 0x200000 → HPA 0x800000. */
function nested() {
  const s = systemWith('vtd', 'mainline', [{ id: 'vf0' }]);
  s.createDomain({ id: 's2', iommu: 'iommu0', type: 'dma', nestParent: true });
  s.createDomain({ id: 'guest', iommu: 'iommu0', type: 'nested', parent: 's2' });
  s.map('s2', { iova: '0x200000', size: 0x2000, phys: '0x800000', prot: 'rw' });
  s.map('guest', { iova: '0x10000', size: 0x2000, phys: '0x200000', prot: 'rw' });
  s.attach('vf0', 'guest');
  return s;
}

function dma(s: ReturnType<typeof nested>, address: string, access: 'read' | 'write' = 'write') {
  const pages = capture(s, 'dma.page');
  const tx = s.dma({
    device: 'vf0',
    address,
    length: 8,
    access,
    ...(access === 'write' ? { data: new Uint8Array(8).fill(5) } : {}),
  });
  s.runUntilIdle();
  return { tx, pages };
}

describe('nested translation: stage 2 of stage 1 (reference §4, §7)', () => {
  it('lands a DMA through the guest address in the host frame of stage 2 of stage 1', () => {
    const s = nested();
    const { tx, pages } = dma(s, '0x10008');
    expect(tx.state).toBe('completed');
    expect(pages[0]).toMatchObject({ address: '0x10000', frame: '0x800000' });
    expect(s.iovaToPhys('guest', '0x11010')).toEqual({ phys: '0x801010', prot: 'rw', pageSize: '4K' });
    expect(s.env.memory.snapshot(0x800)![8]).toBe(5);
  });

  it('reports a stage-1 miss as stage 1 and a stage-2 miss as stage 2', () => {
    const s = nested();
    expect(dma(s, '0x20000').tx.fault).toMatchObject({ fault: 'translation', stage: 1, code: 0x71 });
    s.map('guest', { iova: '0x30000', size: 0x1000, phys: '0x900000', prot: 'rw' }); // GPA with no stage 2
    expect(dma(s, '0x30000').tx.fault).toMatchObject({ fault: 'translation', stage: 2, code: 0x79 });
  });

  it('says which stage denied an access: stage 1 read-only, or stage 2 read-only', () => {
    const s = nested();
    s.map('s2', { iova: '0x300000', size: 0x1000, phys: '0x900000', prot: 'r' });
    s.map('guest', { iova: '0x40000', size: 0x1000, phys: '0x300000', prot: 'rw' });
    s.map('guest', { iova: '0x50000', size: 0x1000, phys: '0x200000', prot: 'r' }); // stage-2 page is rw
    expect(dma(s, '0x40000').tx.fault).toMatchObject({ fault: 'permission-write', stage: 2 });
    expect(dma(s, '0x50000').tx.fault).toMatchObject({ fault: 'permission-write', stage: 1 });
  });

  it('a change to stage 2 invalidates the nested domain too, so the next DMA faults at stage 2', () => {
    const s = nested();
    expect(dma(s, '0x10000').tx.state).toBe('completed');
    const flushed = capture(s, 'iotlb.invalidated');
    s.unmap('s2', '0x200000', 0x1000);
    expect(flushed.map((event) => event.domain)).toEqual(['s2', 'guest']);
    expect(dma(s, '0x10000').tx.fault).toMatchObject({ stage: 2, fault: 'translation' });
  });

  it('walks both stages for the inspector', () => {
    const s = nested();
    const walk = s.walk('guest', '0x10000');
    expect(walk.stage1!.at(-1)).toMatchObject({ entry: 'leaf', output: '0x200000' });
    expect(walk.stage2!.at(-1)).toMatchObject({ entry: 'leaf', output: '0x800000' });
  });

  it('charges the 2D walk: (4 + 1) × (4 + 1) − 1 = 24 entry reads for 4-level stages', () => {
    const s = systemWith('vtd', 'mainline', [{ id: 'vf0' }], {
      latency: { walkAccessNs: 100, iotlbHitNs: 7 },
    });
    s.createDomain({ id: 's2', iommu: 'iommu0', type: 'dma', nestParent: true });
    s.createDomain({ id: 'guest', iommu: 'iommu0', type: 'nested', parent: 's2' });
    s.map('s2', { iova: '0x0', size: 0x1000, prot: 'rw' });
    s.map('guest', { iova: '0x0', size: 0x1000, phys: '0x0', prot: 'rw' });
    s.attach('vf0', 'guest');
    const pages = capture(s, 'dma.page');
    s.dma({ device: 'vf0', address: '0x0', length: 8, access: 'read' });
    s.runUntilIdle();
    expect(pages[0]!.costNs).toBe(7 + 24 * 100);
  });
});
