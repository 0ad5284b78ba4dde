import { describe, expect, it } from 'vitest';
import { PRI_DEVICE, bindProcess, systemWith } from '../testing/fixtures';

describe('mainline: the device view names the attachments holding IOPF and the attach that switched it on (reference §3)', () => {
  it('records the first fault-capable attach, lists every holder, and forgets both when the last goes', () => {
    const system = systemWith('vtd', 'mainline', [{ id: 'nic0', ...PRI_DEVICE }]);
    const device = () => system.describe().devices[0]!;
    expect(device().iopf).toMatchObject({ users: 0, holders: [], enabledBy: null });
    bindProcess(system, 'nic0');
    const first = device().iopf.holders[0]!;
    expect(first.pasid).toBeGreaterThan(0);
    system.createProcess({ id: 'other' });
    system.svaBind('nic0', 'other');
    expect(device().iopf.users).toBe(2);
    expect(device().iopf.holders).toHaveLength(2);
    expect(device().iopf.enabledBy).toMatchObject({ domain: first.domain, pasid: first.pasid });
    system.svaUnbind('nic0', 'app');
    // Still on, through the other bond; the attach that switched it on stays named.
    expect(device().iopf.holders).toHaveLength(1);
    expect(device().iopf.holders[0]!.domain).not.toBe(first.domain);
    expect(device().iopf.enabledBy).toMatchObject({ domain: first.domain });
    system.svaUnbind('nic0', 'other');
    expect(device().iopf).toMatchObject({ users: 0, holders: [], enabledBy: null });
  });

  it('names a RID attach with pasid null', () => {
    const system = systemWith('smmuv3', 'mainline', [{ id: 'acc0', kind: 'platform', stall: true }]);
    system.createDomain({ id: 's2', iommu: 'iommu0', type: 'dma', nestParent: true });
    system.createDomain({ id: 'guest', iommu: 'iommu0', type: 'nested', parent: 's2' });
    system.setDomainFaultHandler('guest', { type: 'external' });
    system.attach('acc0', 'guest');
    expect(system.describe().devices[0]!.iopf).toMatchObject({
      holders: [{ domain: 'guest', pasid: null }],
      enabledBy: { domain: 'guest', pasid: null },
    });
  });

  it('holds nothing under seed-5.13, where IOPF is a feature call', () => {
    const system = systemWith('vtd', 'seed-5.13', [{ id: 'nic0', ...PRI_DEVICE }]);
    system.enableFeature('nic0', 'IOPF');
    expect(system.describe().devices[0]!.iopf).toMatchObject({
      enabled: true,
      users: 0,
      holders: [],
      enabledBy: null,
    });
  });
});
