import { describe, expect, it } from 'vitest';
import { PRI_DEVICE, bindProcess, capture, expectRefused, systemWith } from '../testing/fixtures';

describe('what may attach where (reference §3)', () => {
  function system(profile: 'seed-5.13' | 'mainline' | 'proposal' = 'mainline') {
    const s = systemWith('vtd', profile, [{ id: 'nic0', ...PRI_DEVICE }, { id: 'plain' }]);
    s.createDomain({ id: 'dom0', iommu: 'iommu0', type: 'dma' });
    s.createDomain({ id: 'dom1', iommu: 'iommu0', type: 'dma' });
    return s;
  }

  it('refuses a domain of another IOMMU with EINVAL', () => {
    const s = system();
    s.addIommu({ id: 'iommu1', family: 'smmuv3', profile: 'mainline' });
    s.createDomain({ id: 'far', iommu: 'iommu1', type: 'dma' });
    expectRefused(s, () => s.attach('nic0', 'far'), 'EINVAL', 'foreign-domain');
  });

  it('refuses attaching over a non-blocked domain with EBUSY unless asked to replace', () => {
    const s = system();
    s.attach('nic0', 'dom0');
    expectRefused(s, () => s.attach('nic0', 'dom1'), 'EBUSY', 'attached');
    s.attach('nic0', 'dom1', { replace: true });
    expect(s.describe().devices[0]!.domain).toBe('dom1');
    expect(s.describe().domains.find((d) => d.id === 'dom0')!.attachments).toEqual([]);
  });

  it('detach returns the requester ID to blocked, and DMA then faults as blocked', () => {
    const s = system();
    s.map('dom0', { iova: '0x1000', size: 0x1000, prot: 'rw' });
    s.attach('plain', 'dom0');
    s.detach('plain');
    expect(s.describe().devices[1]!.domain).toBeNull();
    const tx = s.dma({ device: 'plain', address: '0x1000', length: 8, access: 'read' });
    s.runUntilIdle();
    expect(tx.fault).toMatchObject({ fault: 'blocked', code: 0x59 });
    expectRefused(s, () => s.detach('plain'), 'ENOENT', 'not-attached');
  });

  it('refuses PASID 0, PASIDs beyond the device, devices without PASID, and a taken PASID', () => {
    const s = system();
    expectRefused(s, () => s.attach('nic0', 'dom0', { pasid: 0 }), 'EINVAL', 'bad-pasid');
    expectRefused(s, () => s.attach('nic0', 'dom0', { pasid: 2 ** 20 }), 'EINVAL', 'bad-pasid');
    expectRefused(s, () => s.attach('plain', 'dom0', { pasid: 1 }), 'EINVAL', 'no-pasid');
    s.attach('nic0', 'dom0', { pasid: 9 });
    expectRefused(s, () => s.attach('nic0', 'dom1', { pasid: 9 }), 'EBUSY', 'pasid-busy');
  });

  it('identity and nested at a PASID: VT-d takes them, SMMUv3 refuses with EOPNOTSUPP', () => {
    const vtd = system();
    vtd.createDomain({ id: 'id', iommu: 'iommu0', type: 'identity' });
    vtd.attach('nic0', 'id', { pasid: 3 });
    const smmu = systemWith('smmuv3', 'mainline', [
      { id: 'acc0', kind: 'platform', stall: true, pasidBits: 8 },
    ]);
    smmu.createDomain({ id: 'id', iommu: 'iommu0', type: 'identity' });
    smmu.createDomain({ id: 's2', iommu: 'iommu0', type: 'dma', nestParent: true });
    smmu.createDomain({ id: 'nest', iommu: 'iommu0', type: 'nested', parent: 's2' });
    expectRefused(smmu, () => smmu.attach('acc0', 'id', { pasid: 3 }), 'EOPNOTSUPP', 'unsupported-at-pasid');
    expectRefused(
      smmu,
      () => smmu.attach('acc0', 'nest', { pasid: 3 }),
      'EOPNOTSUPP',
      'unsupported-at-pasid',
    );
  });

  it('a DMA domain at a PASID needs AUX before iommu_attach_device_pasid (EPERM), not under mainline', () => {
    for (const profile of ['seed-5.13', 'proposal'] as const) {
      const s = system(profile);
      expectRefused(s, () => s.attach('nic0', 'dom0', { pasid: 4 }), 'EPERM', 'aux-not-enabled');
      s.enableFeature('nic0', 'AUX');
      s.attach('nic0', 'dom0', { pasid: 4 });
    }
    const mainline = system('mainline');
    mainline.attach('nic0', 'dom0', { pasid: 4 });
    expect(mainline.describe().devices[0]!.pasids).toEqual([{ pasid: 4, domain: 'dom0' }]);
  });

  it('SVA domains are attached and detached only through bind and unbind', () => {
    const s = system();
    const { pasid } = bindProcess(s, 'nic0');
    const svaDomain = s.describe().devices[0]!.pasids[0]!.domain;
    expectRefused(s, () => s.attach('plain', svaDomain), 'EINVAL', 'sva-domain');
    expectRefused(s, () => s.detach('nic0', pasid), 'EINVAL', 'sva-domain');
  });

  it('detaching flushes the device ATC for that PASID', () => {
    const s = system();
    s.map('dom0', { iova: '0x4000', size: 0x1000, prot: 'rw' });
    s.attach('nic0', 'dom0', { pasid: 6 });
    s.dma({ device: 'nic0', pasid: 6, address: '0x4000', length: 4, access: 'read' });
    s.runUntilIdle();
    const atc = capture(s, 'atc.invalidated');
    s.detach('nic0', 6);
    expect(atc).toEqual([expect.objectContaining({ device: 'nic0', pasid: 6, cause: 'detach', entries: 1 })]);
  });
});
