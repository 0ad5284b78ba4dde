/**
 * Fault categories (BIND, MAP) are the proposal's (reference, profile table): only a proposal driver
 * reports them. Under seed-5.13 and mainline an IOMMU's picture has none (null, not an empty list, which
 * would mean a proposal driver that supports no category), a config cannot give it some, and an export
 * of it says nothing about them.
 */
import { describe, expect, it } from 'vitest';
import { buildSystem } from '../config/build-system';
import { exportConfig } from '../config/export-config';
import { KERNEL_PROFILES } from '../profile/kernel-profile';
import { System } from '../system';
import { expectRefused, systemWith } from '../testing/fixtures';

const categoriesOf = (system: System, iommu = 'iommu0') =>
  system.describe().iommus.find((i) => i.id === iommu)!.faultCategories;

describe('fault categories exist only under the proposal', () => {
  it.each(['vtd', 'smmuv3'] as const)('%s: mainline and seed-5.13 report none', (family) => {
    expect(categoriesOf(systemWith(family, 'mainline'))).toBeNull();
    expect(categoriesOf(systemWith(family, 'seed-5.13'))).toBeNull();
  });

  it('proposal: the driver reports what the IOMMU can resolve, or what its config says', () => {
    expect(categoriesOf(systemWith('vtd', 'proposal'))).toEqual(['BIND', 'MAP']);
    const s = new System({ seed: 1 });
    s.addIommu({ id: 'nosva', family: 'vtd', profile: 'proposal', capabilities: { sva: false } });
    s.addIommu({ id: 'fatal', family: 'vtd', profile: 'proposal', capabilities: { pri: false } });
    s.addIommu({ id: 'bind', family: 'smmuv3', profile: 'proposal', driver: { faultCategories: ['BIND'] } });
    expect(categoriesOf(s, 'nosva')).toEqual(['MAP']);
    // A proposal driver without recoverable faults: categories exist, and it supports none.
    expect(categoriesOf(s, 'fatal')).toEqual([]);
    expect(categoriesOf(s, 'bind')).toEqual(['BIND']);
  });

  it('a config that gives categories to a driver without them is refused with EPROFILE, changing nothing', () => {
    for (const profile of KERNEL_PROFILES.filter((name) => name !== 'proposal')) {
      const s = systemWith('vtd', profile);
      const error = expectRefused(
        s,
        () => s.addIommu({ id: 'x', family: 'smmuv3', profile, driver: { faultCategories: ['BIND'] } }),
        'EPROFILE',
        'not-in-profile',
      );
      expect(error.message).toContain('driver.faultCategories');
      expect(error.message).toContain(profile);
    }
  });

  it('an export round-trips: no categories for mainline, the given ones for the proposal', () => {
    const s = new System({ seed: 1 });
    s.addIommu({ id: 'main', family: 'vtd', profile: 'mainline' });
    s.addIommu({ id: 'prop', family: 'smmuv3', profile: 'proposal', driver: { faultCategories: ['BIND'] } });
    s.addIommu({ id: 'dflt', family: 'vtd', profile: 'proposal' });
    const { config } = exportConfig(s);
    const exported = (id: string) => config.iommus.find((iommu) => iommu.id === id)!;
    expect(exported('main').driver).toBeUndefined();
    expect(exported('prop').driver).toEqual({ faultCategories: ['BIND'] });
    // The default categories are not written out: a rebuild derives them again.
    expect(exported('dflt').driver).toBeUndefined();
    const rebuilt = buildSystem(config);
    expect(categoriesOf(rebuilt, 'main')).toBeNull();
    expect(categoriesOf(rebuilt, 'prop')).toEqual(['BIND']);
    expect(categoriesOf(rebuilt, 'dflt')).toEqual(['BIND', 'MAP']);
  });
});
