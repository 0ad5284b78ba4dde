import { describe, expect, it } from 'vitest';
import { PRI_DEVICE, bindProcess, expectRefused, systemWith } from '../testing/fixtures';

describe('device features under seed-5.13 and proposal (reference §3)', () => {
  for (const profile of ['seed-5.13', 'proposal'] as const) {
    describe(profile, () => {
      it('refuses SVA before IOPF with EINVAL (IOPF must be enabled before SVA)', () => {
        const system = systemWith('vtd', profile, [{ id: 'nic0', ...PRI_DEVICE }]);
        expectRefused(system, () => system.enableFeature('nic0', 'SVA'), 'EINVAL', 'iopf-before-sva');
        system.enableFeature('nic0', 'IOPF');
        system.enableFeature('nic0', 'SVA');
        expect(system.describe().devices[0]!.features).toEqual(['IOPF', 'SVA']);
      });

      it('refuses IOPF off while SVA is on with EBUSY, and allows the reverse order', () => {
        const system = systemWith('vtd', profile, [{ id: 'nic0', ...PRI_DEVICE }]);
        system.enableFeature('nic0', 'IOPF');
        system.enableFeature('nic0', 'SVA');
        expectRefused(system, () => system.disableFeature('nic0', 'IOPF'), 'EBUSY', 'sva-before-iopf');
        system.disableFeature('nic0', 'SVA');
        system.disableFeature('nic0', 'IOPF');
        expect(system.describe().devices[0]!.iopf.pri.enabled).toBe(false);
      });

      it('refuses enabling twice with EBUSY and disabling what is off with EINVAL', () => {
        const system = systemWith('vtd', profile, [{ id: 'nic0', ...PRI_DEVICE }]);
        system.enableFeature('nic0', 'IOPF');
        expectRefused(system, () => system.enableFeature('nic0', 'IOPF'), 'EBUSY', 'already-enabled');
        expectRefused(system, () => system.disableFeature('nic0', 'SVA'), 'EINVAL', 'not-enabled');
      });

      it('lets a device that manages its own faults enable SVA without IOPF', () => {
        const system = systemWith('vtd', profile, [{ id: 'gpu0', pasidBits: 20, managesOwnFaults: true }]);
        system.enableFeature('gpu0', 'SVA');
        expectRefused(system, () => system.enableFeature('gpu0', 'IOPF'), 'ENODEV', 'capability-missing');
      });

      it('refuses a missing capability with ENODEV: IOPF without PRI, SVA without PASID', () => {
        const system = systemWith('vtd', profile, [
          { id: 'plain', ats: true },
          { id: 'nopasid', ats: true, pri: { capacity: 8 } },
        ]);
        expectRefused(system, () => system.enableFeature('plain', 'IOPF'), 'ENODEV');
        system.enableFeature('nopasid', 'IOPF');
        expectRefused(system, () => system.enableFeature('nopasid', 'SVA'), 'ENODEV');
      });

      it('refuses disabling SVA while a process is bound (EBUSY)', () => {
        const system = systemWith('vtd', profile, [{ id: 'nic0', ...PRI_DEVICE }]);
        bindProcess(system, 'nic0');
        expectRefused(system, () => system.disableFeature('nic0', 'SVA'), 'EBUSY', 'bound');
      });

      it('grants PRI Allocation = min(Capacity, PRQ depth 2048) when IOPF is enabled on VT-d', () => {
        const system = systemWith('vtd', profile, [
          { id: 'small', ...PRI_DEVICE, pri: { capacity: 32 } },
          { id: 'large', ...PRI_DEVICE, pri: { capacity: 4096 } },
        ]);
        system.enableFeature('small', 'IOPF');
        system.enableFeature('large', 'IOPF');
        const [small, large] = system.describe().devices;
        expect(small!.iopf.pri).toMatchObject({ enabled: true, allocation: 32 });
        expect(large!.iopf.pri).toMatchObject({ enabled: true, allocation: 2048 });
      });

      it('AUX exists on VT-d only, and cannot be disabled with an auxiliary domain attached', () => {
        const system = systemWith('vtd', profile, [{ id: 'nic0', ...PRI_DEVICE }]);
        system.enableFeature('nic0', 'AUX');
        system.createDomain({ id: 'aux', iommu: 'iommu0', type: 'dma' });
        system.attach('nic0', 'aux', { pasid: 5 });
        expectRefused(system, () => system.disableFeature('nic0', 'AUX'), 'EBUSY', 'aux-attached');
        const smmu = systemWith('smmuv3', profile, [
          { id: 'acc0', kind: 'platform', stall: true, pasidBits: 8 },
        ]);
        expectRefused(smmu, () => smmu.enableFeature('acc0', 'AUX'), 'ENODEV');
      });
    });
  }

  it('SMMUv3 grants IOPF only to stall masters with exactly one StreamID (arm_smmu_master_iopf_supported)', () => {
    const system = systemWith('smmuv3', 'seed-5.13', [
      { id: 'one', kind: 'platform', stall: true },
      { id: 'two', kind: 'platform', stall: true, streamIds: 2 },
      { id: 'pci', ...PRI_DEVICE },
    ]);
    system.enableFeature('one', 'IOPF');
    expect(system.describe().devices[0]!.iopf.stall).toBe(true);
    expectRefused(system, () => system.enableFeature('two', 'IOPF'), 'ENODEV');
    // seed-5.13's SMMUv3 takes faults through stall only; a PCIe PRI function cannot enable IOPF.
    expectRefused(system, () => system.enableFeature('pci', 'IOPF'), 'ENODEV');
  });

  it('the proposal feeds SMMUv3 PRI to the fault path, so a PCIe PRI function behind SMMUv3 can enable IOPF', () => {
    const system = systemWith('smmuv3', 'proposal', [{ id: 'pci', ...PRI_DEVICE }]);
    system.enableFeature('pci', 'IOPF');
    expect(system.describe().devices[0]!.iopf.pri.enabled).toBe(true);
  });

  it('refuses an unknown feature name with EINVAL', () => {
    const system = systemWith('vtd', 'seed-5.13', [{ id: 'nic0', ...PRI_DEVICE }]);
    expectRefused(system, () => system.enableFeature('nic0', 'FAST' as never), 'EINVAL', 'bad-feature');
  });
});
