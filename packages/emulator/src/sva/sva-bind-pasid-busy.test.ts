import { describe, expect, it } from 'vitest';
import { System } from '../system';

describe('SVA bind and a PASID the device already uses', () => {
  it('is refused with EBUSY when the PASID the mm would get holds another domain, and changes nothing', () => {
    const system = new System({ memoryFrames: 4096 });
    system.addIommu({ id: 'smmu', family: 'smmuv3', profile: 'mainline' });
    system.addDevice({ id: 'acc', iommu: 'smmu', kind: 'platform', stall: true, pasidBits: 4 });
    system.createProcess({ id: 'app' });
    system.createDomain({ id: 'dma', iommu: 'smmu', type: 'dma' });
    system.attach('acc', 'dma', { pasid: 1 });
    const before = system.describe();
    expect(() => system.svaBind('acc', 'app')).toThrow(
      expect.objectContaining({ code: 'EBUSY', reason: 'pasid-busy' }),
    );
    expect(system.describe()).toEqual(before);
    expect(system.process('app').pasid).toBeUndefined();
  });
});
