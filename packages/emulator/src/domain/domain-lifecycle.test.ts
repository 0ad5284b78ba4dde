import { describe, expect, it } from 'vitest';
import { PRI_DEVICE, bindProcess, expectRefused, systemWith } from '../testing/fixtures';

describe('creating and destroying domains', () => {
  it('nested domains need IOMMU nesting, an existing parent on the same IOMMU, and a DMA nest parent', () => {
    const s = systemWith('vtd', 'mainline', [{ id: 'nic0', ...PRI_DEVICE }]);
    s.addIommu({ id: 'flat', family: 'vtd', profile: 'mainline', capabilities: { nesting: false } });
    s.addIommu({ id: 'other', family: 'vtd', profile: 'mainline' });
    s.createDomain({ id: 'plain', iommu: 'iommu0', type: 'dma' });
    s.createDomain({ id: 'parent', iommu: 'iommu0', type: 'dma', nestParent: true });
    s.createDomain({ id: 'far-parent', iommu: 'other', type: 'dma', nestParent: true });
    expectRefused(
      s,
      () => s.createDomain({ iommu: 'flat', type: 'nested', parent: 'parent' }),
      'EOPNOTSUPP',
      'no-nesting',
    );
    expectRefused(s, () => s.createDomain({ iommu: 'iommu0', type: 'nested', parent: 'ghost' }), 'ENOENT');
    expectRefused(
      s,
      () => s.createDomain({ iommu: 'iommu0', type: 'nested', parent: 'far-parent' }),
      'EINVAL',
      'foreign-domain',
    );
    expectRefused(
      s,
      () => s.createDomain({ iommu: 'iommu0', type: 'nested', parent: 'plain' }),
      'EINVAL',
      'not-nest-parent',
    );
    expectRefused(s, () => s.createDomain({ iommu: 'iommu0', type: 'nested' }), 'EINVAL', 'no-parent');
    s.createDomain({ id: 'nest', iommu: 'iommu0', type: 'nested', parent: 'parent' });
    expect(s.describe().domains.find((d) => d.id === 'nest')).toMatchObject({
      type: 'nested',
      parent: 'parent',
      stage: 1,
    });
  });

  it('gives DMA domains the stage of their kernel: VT-d second level before mainline, first level in it; SMMUv3 stage 1; nest parents stage 2', () => {
    const stageOf = (
      family: 'vtd' | 'smmuv3',
      profile: 'seed-5.13' | 'mainline' | 'proposal',
      nestParent = false,
    ) => {
      const s = systemWith(family, profile);
      return s.createDomain({ iommu: 'iommu0', type: 'dma', nestParent }).stage;
    };
    expect(stageOf('vtd', 'seed-5.13')).toBe(2);
    expect(stageOf('vtd', 'proposal')).toBe(2);
    expect(stageOf('vtd', 'mainline')).toBe(1);
    expect(stageOf('smmuv3', 'seed-5.13')).toBe(1);
    expect(stageOf('smmuv3', 'mainline', true)).toBe(2);
  });

  it('refuses destroying an attached domain, a parent of nested domains, and an SVA domain', () => {
    const s = systemWith('vtd', 'mainline', [{ id: 'nic0', ...PRI_DEVICE }]);
    s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
    s.attach('nic0', 'd');
    expectRefused(s, () => s.destroyDomain('d'), 'EBUSY', 'attached');
    s.createDomain({ id: 'p', iommu: 'iommu0', type: 'dma', nestParent: true });
    s.createDomain({ id: 'n', iommu: 'iommu0', type: 'nested', parent: 'p' });
    expectRefused(s, () => s.destroyDomain('p'), 'EBUSY', 'has-children');
    bindProcess(s, 'nic0');
    const sva = s.describe().domains.find((d) => d.type === 'sva')!.id;
    expectRefused(s, () => s.destroyDomain(sva), 'EINVAL', 'sva-domain');
    s.destroyDomain('n');
    s.destroyDomain('p');
  });

  it('destroying a DMA domain unmaps and frees its frames', () => {
    const s = systemWith('vtd', 'mainline');
    s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
    const before = s.describe().memory.framesUsed;
    s.map('d', { iova: '0x0', size: 0x100000, prot: 'rw' });
    expect(s.describe().memory.framesUsed).toBe(before + 256);
    s.destroyDomain('d');
    expect(s.describe().memory.framesUsed).toBe(before);
    expect(s.describe().domains).toEqual([]);
  });

  it('refuses duplicate names, maps on domains without tables, and option misuse', () => {
    const s = systemWith('vtd', 'mainline');
    s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
    s.createDomain({ id: 'b', iommu: 'iommu0', type: 'blocked' });
    expectRefused(
      s,
      () => s.createDomain({ id: 'd', iommu: 'iommu0', type: 'identity' }),
      'EEXIST',
      'id-taken',
    );
    expectRefused(s, () => s.map('b', { iova: '0x0', size: 4096, prot: 'r' }), 'EINVAL', 'not-paging');
    expectRefused(
      s,
      () => s.createDomain({ iommu: 'iommu0', type: 'identity', stage: 2 }),
      'EINVAL',
      'bad-domain-spec',
    );
    expectRefused(s, () => s.createDomain({ iommu: 'nowhere', type: 'dma' }), 'ENOENT', 'no-such-iommu');
    expectRefused(s, () => s.createDomain({ iommu: 'iommu0', type: 'sva' as never }), 'EINVAL', 'invalid');
  });

  it('maps, translates and unmaps through the system API with clear errors, changing nothing on refusal', () => {
    const s = systemWith('vtd', 'mainline');
    s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
    expect(s.map('d', { iova: '0x200000', size: '0x200000', phys: '0x400000', prot: 'rw' })).toEqual({
      iova: '0x200000',
      phys: '0x400000',
      size: 0x200000,
    });
    expect(s.iovaToPhys('d', '0x2ff123')).toEqual({ phys: '0x4ff123', prot: 'rw', pageSize: '2M' });
    expectRefused(s, () => s.map('d', { iova: '0x3ff000', size: 0x2000, prot: 'rw' }), 'EEXIST', 'overlap');
    expectRefused(s, () => s.map('d', { iova: '0x1001', size: 0x1000, prot: 'rw' }), 'EINVAL', 'misaligned');
    expectRefused(s, () => s.map('d', { iova: '0x1000', size: 0x1001, prot: 'rw' }), 'EINVAL', 'misaligned');
    expectRefused(s, () => s.map('d', { iova: '0x1000', size: 0x1000, prot: 'x' }), 'EINVAL', 'no-access');
    expectRefused(
      s,
      () => s.map('d', { iova: '0xfffffffff000', size: 0x2000, prot: 'rw' }),
      'ERANGE',
      'out-of-range',
    );
    expectRefused(
      s,
      () => s.map('d', { iova: '0x0', size: 0x1000, phys: '0xffffffff000', prot: 'rw' }),
      'ERANGE',
    );
    expectRefused(s, () => s.unmap('d', '0x200000', 0x1000), 'EINVAL', 'splits-leaf');
    expectRefused(s, () => s.unmap('d', '0x800000', 0x1000), 'ENOENT', 'not-mapped');
    expectRefused(s, () => s.iovaToPhys('d', '0x800000'), 'ENOENT', 'not-mapped');
    s.unmap('d', '0x200000', 0x200000);
    expect(s.describe().domains[0]!.mappedBytes).toBe(0);
  });
});
