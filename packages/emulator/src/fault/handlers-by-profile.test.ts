import { describe, expect, it } from 'vitest';
import {
  PRI_DEVICE,
  USER_BASE,
  bindProcess,
  capture,
  expectRefused,
  stepUntil,
  systemWith,
} from '../testing/fixtures';

describe('fault handlers by kernel profile (reference §1, §3, §4)', () => {
  describe('seed-5.13: one handler per device (iommu_register_device_fault_handler)', () => {
    it('refuses a second handler with EBUSY and categories with EINVAL', () => {
      const s = systemWith('vtd', 'seed-5.13', [{ id: 'nic0', ...PRI_DEVICE }]);
      s.registerFaultHandler('nic0', { type: 'external' });
      expectRefused(
        s,
        () => s.registerFaultHandler('nic0', { type: 'external' }),
        'EBUSY',
        'handler-registered',
      );
      expectRefused(
        s,
        () => s.registerFaultHandler('nic0', { type: 'external', categories: ['BIND'] }),
        'EINVAL',
        'no-categories',
      );
    });

    it('enabling SVA registers the kernel handler (iommu_queue_iopf), so SVA and a user handler exclude each other', () => {
      const s = systemWith('vtd', 'seed-5.13', [
        { id: 'a', ...PRI_DEVICE },
        { id: 'b', ...PRI_DEVICE },
      ]);
      s.enableFeature('a', 'IOPF');
      s.enableFeature('a', 'SVA');
      expect(s.describe().devices[0]!.handlers).toEqual([
        { slot: '*', handler: { type: 'sva', categories: null } },
      ]);
      expectRefused(s, () => s.registerFaultHandler('a', { type: 'external' }), 'EBUSY');
      s.enableFeature('b', 'IOPF');
      s.registerFaultHandler('b', { type: 'external' });
      expectRefused(s, () => s.enableFeature('b', 'SVA'), 'EBUSY', 'handler-registered');
      s.disableFeature('a', 'SVA');
      expect(s.describe().devices[0]!.handlers).toEqual([]);
    });

    it('reports unrecoverable faults to the registered handler', () => {
      const s = systemWith('smmuv3', 'seed-5.13', [{ id: 'acc', kind: 'platform' }]);
      s.registerFaultHandler('acc', { type: 'external' });
      s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
      s.attach('acc', 'd');
      const reported = capture(s, 'fault.reported');
      s.dma({ device: 'acc', address: '0x0', length: 8, access: 'read' });
      s.runUntilIdle();
      expect(reported).toEqual([
        expect.objectContaining({
          device: 'acc',
          handler: 'external',
          delivered: true,
          linuxReason: 'IOMMU_FAULT_REASON_PTE_FETCH',
        }),
      ]);
    });
  });

  describe('proposal: handlers per category, refused where the driver lacks the category', () => {
    it('refuses a category the driver does not support with EOPNOTSUPP naming the driver', () => {
      const s = systemWith('vtd', 'proposal');
      s.addIommu({
        id: 'bindonly',
        family: 'smmuv3',
        profile: 'proposal',
        driver: { faultCategories: ['BIND'] },
      });
      s.addDevice({ id: 'acc', iommu: 'bindonly', kind: 'platform', stall: true });
      const error = expectRefused(
        s,
        () =>
          s.registerFaultHandler('acc', {
            type: 'map',
            region: { iova: '0x0', size: 0x1000 },
            pinBudgetPages: 1,
          }),
        'EOPNOTSUPP',
        'category-unsupported',
      );
      expect(error.message).toContain('MAP');
      expect(error.profile).toBe('proposal');
      expect(s.describe().iommus.find((i) => i.id === 'bindonly')!.faultCategories).toEqual(['BIND']);
    });

    it('refuses a taken category with EBUSY, and handler types in the wrong category with EINVAL', () => {
      const s = systemWith('vtd', 'proposal', [{ id: 'nic0', ...PRI_DEVICE }]);
      s.registerFaultHandler('nic0', { type: 'external', categories: ['MAP'] });
      expectRefused(
        s,
        () =>
          s.registerFaultHandler('nic0', {
            type: 'map',
            region: { iova: '0x0', size: 0x1000 },
            pinBudgetPages: 1,
          }),
        'EBUSY',
      );
      expectRefused(
        s,
        () => s.registerFaultHandler('nic0', { type: 'sva', categories: ['MAP'] }),
        'EINVAL',
        'bad-categories',
      );
      expectRefused(
        s,
        () =>
          s.registerFaultHandler('nic0', {
            type: 'guest',
            region: { iova: '0x0', size: 0x1000, phys: '0x0' },
          }),
        'EINVAL',
        'bad-handler',
      );
      s.registerFaultHandler('nic0', { type: 'sva' });
      expect(s.describe().devices[0]!.handlers.map((h) => [h.slot, h.handler.type])).toEqual([
        // Listed by slot, whatever the order they were registered in.
        ['BIND', 'sva'],
        ['MAP', 'external'],
      ]);
    });

    it('every fault carries its category: BIND for SVA, MAP for a DMA domain', () => {
      const s = systemWith('vtd', 'proposal', [{ id: 'nic0', ...PRI_DEVICE }]);
      const { pasid } = bindProcess(s, 'nic0');
      s.registerFaultHandler('nic0', {
        type: 'map',
        region: { iova: '0x0', size: 0x10000 },
        pinBudgetPages: 4,
      });
      s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
      s.attach('nic0', 'd');
      const groups = capture(s, 'fault.group');
      s.dma({ device: 'nic0', pasid, address: USER_BASE, length: 8, access: 'read' });
      s.dma({ device: 'nic0', address: '0x0', length: 8, access: 'read' });
      s.runUntilIdle();
      expect(groups.map((g) => [g.category, g.handler])).toEqual([
        ['BIND', 'sva'],
        ['MAP', 'map'],
      ]);
    });

    it('unregistering a handler leaves faults of its category without one (INVALID)', () => {
      const s = systemWith('vtd', 'proposal', [{ id: 'nic0', ...PRI_DEVICE }]);
      const { pasid } = bindProcess(s, 'nic0');
      s.unregisterFaultHandler('nic0', 'BIND');
      expectRefused(s, () => s.unregisterFaultHandler('nic0', 'BIND'), 'ENOENT', 'no-handler');
      const tx = s.dma({ device: 'nic0', pasid, address: USER_BASE, length: 8, access: 'read' });
      s.runUntilIdle();
      expect(tx.error).toBe('page-request-invalid');
      expect(s.metrics().system.faults.outcomes['no-handler:INVALID']).toBe(1);
    });
  });

  describe('mainline: handlers belong to domains', () => {
    it('refuses device-level handlers with EPROFILE', () => {
      const s = systemWith('vtd', 'mainline', [{ id: 'nic0', ...PRI_DEVICE }]);
      expectRefused(s, () => s.registerFaultHandler('nic0', { type: 'external' }), 'EPROFILE');
    });

    it('an iommufd fault queue only on a domain that is not attached yet, and only for user-owned tables', () => {
      const s = systemWith('vtd', 'mainline', [{ id: 'nic0', ...PRI_DEVICE }]);
      s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
      s.createDomain({ id: 'i', iommu: 'iommu0', type: 'identity' });
      s.attach('nic0', 'd');
      expectRefused(s, () => s.setDomainFaultHandler('d', { type: 'external' }), 'EBUSY', 'attached');
      expectRefused(s, () => s.setDomainFaultHandler('i', { type: 'external' }), 'EINVAL', 'bad-handler');
      expectRefused(
        s,
        () => s.setDomainFaultHandler('i', { type: 'external', timeoutResponse: 'FAILURE' }),
        'EINVAL',
      );
    });

    it('stage-2 faults of a nested domain are not handled (stage 2 is assumed pinned)', () => {
      const s = systemWith('vtd', 'mainline', [{ id: 'vf0', ...PRI_DEVICE }]);
      s.createDomain({ id: 's2', iommu: 'iommu0', type: 'dma', nestParent: true });
      s.createDomain({ id: 'g', iommu: 'iommu0', type: 'nested', parent: 's2' });
      s.setDomainFaultHandler('g', { type: 'external', timeoutNs: 1e9 });
      s.map('g', { iova: '0x1000', size: 0x1000, phys: '0x8000', prot: 'rw' });
      s.attach('vf0', 'g');
      const tx = s.dma({ device: 'vf0', address: '0x1000', length: 8, access: 'read' }); // stage 2 has nothing at 0x8000
      s.runUntilIdle();
      expect(tx.error).toBe('page-request-invalid');
      expect(s.metrics().system.faults.outcomes['stage2-not-handled:INVALID']).toBe(1);
      // A stage-1 fault of the same domain goes to user space through its fault queue.
      s.dma({ device: 'vf0', address: '0x5000', length: 8, access: 'read' });
      expect(stepUntil(s, () => s.pendingFaults().length > 0)).toBe(true);
      expect(s.pendingFaults()[0]).toMatchObject({ stage: 1, category: 'BIND' });
    });
  });
});
