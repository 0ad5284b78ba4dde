import { describe, expect, it } from 'vitest';
import { PRI_DEVICE, bindProcess, capture, expectRefused, systemWith } from '../testing/fixtures';

describe('mainline: no feature calls, I/O page faults switched on by attach (reference §3)', () => {
  it('refuses every feature call with EPROFILE naming the profile', () => {
    const system = systemWith('vtd', 'mainline', [{ id: 'nic0', ...PRI_DEVICE }]);
    const error = expectRefused(
      system,
      () => system.enableFeature('nic0', 'IOPF'),
      'EPROFILE',
      'not-in-profile',
    );
    expect(error.profile).toBe('mainline');
    expect(error.message).toContain('mainline');
    expectRefused(system, () => system.disableFeature('nic0', 'SVA'), 'EPROFILE');
  });

  it('switches faults on with the first SVA bond and off with the last, reference-counted per device', () => {
    const system = systemWith('vtd', 'mainline', [{ id: 'nic0', ...PRI_DEVICE }]);
    const on = capture(system, 'iopf.enabled');
    const off = capture(system, 'iopf.disabled');
    bindProcess(system, 'nic0');
    system.createProcess({ id: 'other' });
    system.svaBind('nic0', 'other');
    expect(system.describe().devices[0]!.iopf).toMatchObject({
      enabled: true,
      users: 2,
      pri: { enabled: true, allocation: 32 },
    });
    expect(on).toHaveLength(1);
    system.svaUnbind('nic0', 'app');
    expect(system.describe().devices[0]!.iopf).toMatchObject({ enabled: true, users: 1 });
    system.svaUnbind('nic0', 'other');
    expect(system.describe().devices[0]!.iopf).toMatchObject({
      enabled: false,
      users: 0,
      pri: { enabled: false },
    });
    expect(off).toHaveLength(1);
  });

  it('refuses SVA on a VT-d device that can take no I/O page faults (ENODEV), changing nothing', () => {
    const system = systemWith('vtd', 'mainline', [{ id: 'nopri', ats: true, pasidBits: 20 }]);
    system.createProcess({ id: 'app' });
    expectRefused(system, () => system.svaBind('nopri', 'app'), 'ENODEV', 'capability-missing');
    expect(system.describe().processes[0]!.pasid).toBeNull();
  });

  it('binds a device that manages its own faults without PRI', () => {
    const system = systemWith('vtd', 'mainline', [{ id: 'gpu0', pasidBits: 20, managesOwnFaults: true }]);
    bindProcess(system, 'gpu0');
    expect(system.describe().devices[0]!.iopf).toMatchObject({
      users: 1,
      pri: { enabled: false },
      stall: false,
    });
  });

  it('turns stall on for a stall-capable SMMUv3 master when an SVA domain is attached', () => {
    const system = systemWith('smmuv3', 'mainline', [
      { id: 'acc0', kind: 'platform', stall: true, pasidBits: 16 },
    ]);
    bindProcess(system, 'acc0');
    expect(system.describe().devices[0]!.iopf).toMatchObject({ enabled: true, stall: true });
  });

  it('a domain with an iommufd fault queue switches faults on while attached', () => {
    const system = systemWith('smmuv3', 'mainline', [{ id: 'acc0', kind: 'platform', stall: true }]);
    system.createDomain({ id: 's2', iommu: 'iommu0', type: 'dma', nestParent: true });
    system.createDomain({ id: 'guest', iommu: 'iommu0', type: 'nested', parent: 's2' });
    system.setDomainFaultHandler('guest', { type: 'external' });
    system.attach('acc0', 'guest');
    expect(system.describe().devices[0]!.iopf).toMatchObject({ users: 1, stall: true });
    system.detach('acc0');
    expect(system.describe().devices[0]!.iopf).toMatchObject({ users: 0, stall: false });
  });
});
