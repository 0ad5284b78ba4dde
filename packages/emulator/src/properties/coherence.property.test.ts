import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { System } from '../system';
import { ReferenceModel, type Op, type World, runAndCheck } from './harness';

/** Tiny caches with random replacement, so entries are evicted, refilled and invalidated all the time. */
function build(
  seed: number,
  replacement: 'lru' | 'fifo' | 'random',
): { system: System; world: World; model: ReferenceModel } {
  const system = new System({ seed, memoryFrames: 2048 });
  system.addIommu({
    id: 'vtd',
    family: 'vtd',
    profile: 'mainline',
    capabilities: { iotlb: { entries: 8, ways: 2, replacement } },
  });
  system.addDevice({
    id: 'ats',
    iommu: 'vtd',
    ats: true,
    pasidBits: 4,
    atc: { entries: 4, ways: 2, replacement },
  });
  system.addDevice({ id: 'plain', iommu: 'vtd', pasidBits: 4 });
  system.createDomain({ id: 'a', iommu: 'vtd', type: 'dma' });
  system.createDomain({ id: 'b', iommu: 'vtd', type: 'dma' });
  const model = new ReferenceModel();
  system.attach('ats', 'a');
  model.attach('ats', null, 'a');
  system.attach('plain', 'a');
  model.attach('plain', null, 'a');
  return {
    system,
    world: { devices: ['ats', 'plain'], domains: ['a', 'b'], pasids: [null, 1], pages: 32, userBase: 0 },
    model,
  };
}

/**
 * One cycle: map a range, DMA over it until idle (warming the IOTLB and ATC), take the translation away
 * (unmap, or moving the device to another domain), then DMA over the same range again.
 */
const cycle = fc
  .record({
    domain: fc.integer({ min: 0, max: 1 }),
    device: fc.integer({ min: 0, max: 1 }),
    pasid: fc.constantFrom(null, 1),
    page: fc.integer({ min: 0, max: 28 }),
    pages: fc.integer({ min: 1, max: 4 }),
    prot: fc.constantFrom('r' as const, 'rw' as const),
    access: fc.constantFrom('read' as const, 'write' as const),
    remove: fc.constantFrom('unmap' as const, 'detach' as const, 'remap' as const),
  })
  .map(({ domain, device, pasid, page, pages, prot, access, remove }): Op[] => {
    const dma: Op = { op: 'dma', device, pasid, page, offset: 0, length: pages * 4096, access };
    const take: Op[] =
      remove === 'unmap'
        ? [{ op: 'unmap', domain, page, pages }]
        : remove === 'detach'
          ? [{ op: 'detach', device, pasid }]
          : [
              { op: 'unmap', domain, page, pages },
              { op: 'map', domain, page, pages, prot: 'r' },
            ];
    return [
      { op: 'attach', device, domain, pasid },
      { op: 'map', domain, page, pages, prot },
      dma,
      { op: 'run', steps: 0 },
      ...take,
      dma,
      { op: 'run', steps: 0 },
      { op: 'unmap', domain, page, pages },
    ];
  });

describe('property: coherence', () => {
  for (const replacement of ['lru', 'fifo', 'random'] as const) {
    it(`after unmap and invalidation the old translation is never used again (${replacement} caches)`, () => {
      let checked = 0;
      let cycles = 0;
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 1_000_000 }),
          fc.array(cycle, { minLength: 5, maxLength: 40 }),
          (seed, cycleOps) => {
            const { system, world, model } = build(seed, replacement);
            checked += runAndCheck(system, world, model, cycleOps.flat());
            cycles += cycleOps.length;
          },
        ),
        { numRuns: 120 },
      );
      expect(cycles).toBeGreaterThan(1000);
      expect(checked).toBeGreaterThan(1000);
    });
  }
});
