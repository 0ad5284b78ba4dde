import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { System } from '../system';
import { ReferenceModel, type World, opArbitrary, runAndCheck } from './harness';

const USER_BASE_PAGE = 0x7f0000000;

/**
 * VT-d (mainline) with a PCIe function with ATS and PASID, one without ATS, a self-faulting SVA device, and
 * an SMMUv3 platform device; three DMA domains and an identity domain.
 */
function build(seed: number): { system: System; world: World; model: ReferenceModel } {
  const system = new System({ seed, memoryFrames: 4096 });
  system.addIommu({ id: 'vtd', family: 'vtd', profile: 'mainline' });
  system.addIommu({ id: 'smmu', family: 'smmuv3', profile: 'mainline' });
  system.addDevice({
    id: 'ats',
    iommu: 'vtd',
    ats: true,
    pasidBits: 4,
    atc: { entries: 8, ways: 2, replacement: 'lru' },
  });
  system.addDevice({ id: 'plain', iommu: 'vtd', pasidBits: 4 });
  system.addDevice({ id: 'gpu', iommu: 'vtd', pasidBits: 4, managesOwnFaults: true });
  system.addDevice({ id: 'plat', iommu: 'smmu', kind: 'platform', pasidBits: 4 });
  for (const [id, iommu] of [
    ['a', 'vtd'],
    ['b', 'vtd'],
    ['c', 'smmu'],
  ] as const) {
    system.createDomain({ id, iommu, type: 'dma' });
  }
  system.createDomain({ id: 'id', iommu: 'vtd', type: 'identity' });
  system.createProcess({ id: 'app' });
  system.mmap('app', { address: `0x${(USER_BASE_PAGE * 4096).toString(16)}`, size: 16 * 4096, prot: 'rw' });
  const { pasid } = system.svaBind('gpu', 'app');
  const model = new ReferenceModel();
  for (const [device, domain] of [
    ['ats', 'a'],
    ['plain', 'b'],
    ['plat', 'c'],
  ] as const) {
    system.attach(device, domain);
    model.attach(device, null, domain);
  }
  const world: World = {
    devices: ['ats', 'plain', 'gpu', 'plat'],
    domains: ['a', 'b', 'c', 'id'],
    pasids: [null, null, 2, 3, pasid],
    pages: 16,
    userBase: USER_BASE_PAGE,
  };
  return { system, world, model };
}

describe('property: isolation', () => {
  it('a DMA never reaches a frame that its domain / PASID does not map at that moment', () => {
    let pagesChecked = 0;
    let operations = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(opArbitrary(build(1).world), { minLength: 30, maxLength: 120 }),
        (seed, ops) => {
          const { system, world, model } = build(seed);
          pagesChecked += runAndCheck(system, world, model, ops);
          operations += ops.length;
        },
      ),
      { numRuns: 400 },
    );
    // The run really exercised DMA: thousands of generated steps and many checked pages.
    expect(operations).toBeGreaterThan(10_000);
    expect(pagesChecked).toBeGreaterThan(500);
  });
});
