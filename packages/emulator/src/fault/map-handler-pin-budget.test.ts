import { describe, expect, it } from 'vitest';
import { capture, systemWith } from '../testing/fixtures';

/** Passthrough without pinning: a DMA domain filled on demand by the MAP handler (the proposal). */
function vm(pinBudgetPages: number, family: 'vtd' | 'smmuv3' = 'vtd') {
  const device =
    family === 'vtd'
      ? { id: 'vf0', ats: true, pri: { capacity: 32 } }
      : { id: 'vf0', kind: 'platform' as const, stall: true };
  const s = systemWith(family, 'proposal', [device]);
  s.enableFeature('vf0', 'IOPF');
  s.createDomain({ id: 'vm', iommu: 'iommu0', type: 'dma' });
  s.registerFaultHandler('vf0', { type: 'map', region: { iova: '0x0', size: 16 * 4096 }, pinBudgetPages });
  s.attach('vf0', 'vm');
  return s;
}

const handler = (s: ReturnType<typeof vm>) => s.describe().devices[0]!.handlers[0]!.handler;

describe('MAP: on-demand mapping under a pin budget (the proposal, §4)', () => {
  it('maps a faulting IOVA inside the backing region, pinning its frame, and the DMA completes', () => {
    const s = vm(8);
    const mapped = capture(s, 'handler.mapped');
    const tx = s.dma({
      device: 'vf0',
      address: '0x2000',
      length: 2 * 4096,
      access: 'write',
      data: new Uint8Array(8192).fill(3),
    });
    s.runUntilIdle();
    expect(tx.state).toBe('completed');
    expect(mapped.map((m) => m.iova)).toEqual(['0x2000', '0x3000']);
    expect(s.iovaToPhys('vm', '0x2000').phys).toBe(mapped[0]!.phys);
    expect(s.env.memory.pinCount(Number(BigInt(mapped[0]!.phys) / 4096n))).toBe(1);
    expect(handler(s)).toMatchObject({ pinned: 2, mapped: 2, evictions: 0 });
  });

  it('answers INVALID for an IOVA outside the backing region', () => {
    const s = vm(8);
    const tx = s.dma({ device: 'vf0', address: '0x100000', length: 8, access: 'read' });
    s.runUntilIdle();
    expect(tx.error).toBe('page-request-invalid');
  });

  it('past the budget evicts the least recently mapped page (unmap and invalidate), keeping its contents for later', () => {
    const s = vm(2);
    const evicted = capture(s, 'handler.evicted');
    const flushed = capture(s, 'iotlb.invalidated');
    for (const page of [0, 1, 2]) {
      s.dma({
        device: 'vf0',
        address: page * 4096,
        length: 4,
        access: 'write',
        data: new Uint8Array([page + 1, 0, 0, 0]),
      });
      s.runUntilIdle();
    }
    expect(evicted.map((e) => e.iova)).toEqual(['0x0']);
    expect(flushed.some((f) => f.cause === 'unmap' && f.address === '0x0')).toBe(true);
    expect(() => s.iovaToPhys('vm', '0x0')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(handler(s)).toMatchObject({ pinned: 2, evictions: 1 });
    // Page 0 comes back on demand with the byte written before it was evicted.
    const read = s.dma({ device: 'vf0', address: '0x0', length: 1, access: 'read', returnData: true });
    s.runUntilIdle();
    expect([...read.readBack!]).toEqual([1]);
  });

  it('also works for stall masters behind SMMUv3', () => {
    const s = vm(4, 'smmuv3');
    const tx = s.dma({ device: 'vf0', address: '0x0', length: 3 * 4096, access: 'read' });
    s.runUntilIdle();
    expect(tx.state).toBe('completed');
    expect(s.metrics().system.faults.stalls).toBe(3);
  });

  it('a budget smaller than what concurrent DMA needs can livelock: no forward progress is guaranteed (§5)', () => {
    const s = vm(2);
    // Three transactions of two pages each: every group maps its pages by evicting another group's,
    // so each retry finds its own pages gone again.
    for (const page of [0, 2, 4])
      s.dma({ device: 'vf0', address: page * 4096, length: 2 * 4096, access: 'read' });
    const ran = s.runUntilIdle(50_000);
    expect(ran).toBe(50_000);
    expect(s.transactionsInFlight).toBeGreaterThan(0);
    expect(handler(s).evictions).toBeGreaterThan(1000);
  });

  it('unregistering the handler unmaps what it mapped and releases the backing frames', () => {
    const s = vm(8);
    const before = s.describe().memory.framesUsed;
    s.dma({ device: 'vf0', address: '0x0', length: 4 * 4096, access: 'read' });
    s.runUntilIdle();
    expect(s.describe().memory.framesUsed).toBe(before + 4);
    s.unregisterFaultHandler('vf0', 'MAP');
    expect(s.describe().memory.framesUsed).toBe(before);
    expect(s.describe().domains[0]!.mappedBytes).toBe(0);
  });
});
