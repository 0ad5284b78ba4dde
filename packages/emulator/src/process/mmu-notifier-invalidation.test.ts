import { describe, expect, it } from 'vitest';
import { PRI_DEVICE, USER_BASE, bindProcess, capture, systemWith } from '../testing/fixtures';

/** A bound, populated SVA process on a PCIe device whose ATC and the IOTLB hold its first page. */
function warmed() {
  const system = systemWith('vtd', 'seed-5.13', [{ id: 'nic0', ...PRI_DEVICE }]);
  const { pasid } = bindProcess(system, 'nic0');
  system.populate('app', USER_BASE, 0x4000);
  const ok = system.dma({ device: 'nic0', pasid, address: USER_BASE, length: 64, access: 'read' });
  system.runUntilIdle();
  expect(ok.state).toBe('completed');
  return { system, pasid };
}

describe('MMU notifiers: process changes invalidate the IOMMU (reference §3, SVA)', () => {
  for (const [change, act] of [
    ['munmap', (s: ReturnType<typeof warmed>['system']) => s.munmap('app', USER_BASE, 0x1000)],
    ['reclaim', (s: ReturnType<typeof warmed>['system']) => s.reclaim('app', USER_BASE, 0x1000)],
    ['mprotect', (s: ReturnType<typeof warmed>['system']) => s.mprotect('app', USER_BASE, 0x1000, 'r')],
  ] as const) {
    it(`${change} drops the IOTLB entries, then the ATC entries, before the next DMA`, () => {
      const { system, pasid } = warmed();
      const iotlb = capture(system, 'iotlb.invalidated');
      const atc = capture(system, 'atc.invalidated');
      act(system);
      expect(iotlb).toHaveLength(1);
      expect(iotlb[0]).toMatchObject({ cause: 'mmu-notifier', scope: 'range', pages: 1 });
      expect(iotlb[0]!.entries).toBeGreaterThan(0);
      expect(atc[0]!.seq).toBeGreaterThan(iotlb[0]!.seq);
      expect(atc[0]!.entries).toBe(1);
      // The device's next access cannot use the old translation: it needs a page request.
      const requests = capture(system, 'pri.page-request');
      const again = system.dma({ device: 'nic0', pasid, address: USER_BASE, length: 64, access: 'write' });
      system.runUntilIdle();
      expect(requests.length).toBeGreaterThan(0);
      if (change === 'mprotect') expect(again.error).toBe('page-request-invalid');
      else if (change === 'munmap') expect(again.state).toBe('faulted');
      else expect(again.state).toBe('completed');
    });
  }

  it('exit releases the mm: the SVA domain stops translating and every cached entry goes', () => {
    const { system, pasid } = warmed();
    const iotlb = capture(system, 'iotlb.invalidated');
    system.exitProcess('app');
    expect(iotlb.some((event) => event.cause === 'mm-release' && event.scope === 'domain')).toBe(true);
    const after = system.dma({ device: 'nic0', pasid, address: USER_BASE, length: 64, access: 'read' });
    system.runUntilIdle();
    expect(after.state).toBe('faulted');
    expect(after.error).toBe('page-request-invalid');
  });
});
