import { describe, expect, it } from 'vitest';
import { buildSystem } from '../config/build-system';
import { presetById } from '../presets/presets';
import { capture, stepUntil, systemWith } from '../testing/fixtures';

describe('nested fault routing (the proposal, reference §4)', () => {
  it("stage-1 faults go to the guest's queue, stage-2 faults to the host's MAP handler; events say which", () => {
    const s = buildSystem(presetById('nested-guest-sva')!.config);
    const groups = capture(s, 'fault.group');
    const tx = s.dma({ device: 'vf0', address: '0x7f0000000000', length: 8, access: 'write' });
    s.runUntilIdle();
    expect(tx.state).toBe('completed');
    expect(groups.map((g) => [g.stage, g.category, g.handler])).toEqual([
      [1, 'BIND', 'guest'],
      [2, 'MAP', 'map'],
    ]);
    expect(tx.recoveries).toBe(2);
  });

  it('has stage-1 and stage-2 faults in flight at once', () => {
    const s = buildSystem(presetById('nested-guest-sva')!.config);
    let both = false;
    s.on('fault.group', () => {
      const inFlight = s.metrics().system.faults;
      if (inFlight.byStage.stage1 > 0 && inFlight.byStage.stage2 > 0) both = true;
    });
    // Two transactions: one whose guest page is mapped already (stage-2 fault only) and one not.
    s.map('guest-s1', { iova: '0x7f0000100000', size: 0x1000, phys: '0x40100000', prot: 'rw' });
    s.dma({ device: 'vf0', address: '0x7f0000100000', length: 8, access: 'read' });
    s.dma({ device: 'vf0', address: '0x7f0000200000', length: 8, access: 'read' });
    s.runUntilIdle();
    expect(both).toBe(true);
    expect(s.metrics().system.transactions.completed).toBe(2);
  });

  it('the stage-2 page request names the guest physical page that missed', () => {
    const s = systemWith('vtd', 'proposal', [{ id: 'vf0', ats: true, pri: { capacity: 8 } }]);
    s.enableFeature('vf0', 'IOPF');
    s.createDomain({ id: 's2', iommu: 'iommu0', type: 'dma', nestParent: true });
    s.createDomain({ id: 'g', iommu: 'iommu0', type: 'nested', parent: 's2' });
    s.registerFaultHandler('vf0', { type: 'external', categories: ['MAP'] });
    s.map('g', { iova: '0x1000', size: 0x1000, phys: '0x9000', prot: 'rw' });
    s.attach('vf0', 'g');
    const awaiting = capture(s, 'fault.awaiting-client');
    s.dma({ device: 'vf0', address: '0x1000', length: 8, access: 'read' });
    expect(stepUntil(s, () => s.pendingFaults().length > 0)).toBe(true);
    expect(s.pendingFaults()[0]).toMatchObject({
      stage: 2,
      category: 'MAP',
      faults: [{ address: '0x1000', perm: 'r' }],
    });
    expect(awaiting[0]!.faults).toEqual([{ address: '0x1000', perm: 'r', stage2Address: '0x9000' }]);
  });
});
