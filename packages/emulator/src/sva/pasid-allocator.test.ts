import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { System } from '../system';
import { PRI_DEVICE, systemWith } from '../testing/fixtures';
import { PasidAllocator } from './pasid-allocator';

/** The rule as the old linear scan and ida_alloc_range state it: the lowest free ID in [1, max). */
class LowestFreeModel {
  readonly used = new Set<number>();
  constructor(readonly limit: number) {}
  lowestFree(maxExclusive: number): number | undefined {
    for (let pasid = 1; pasid < Math.min(maxExclusive, this.limit); pasid++)
      if (!this.used.has(pasid)) return pasid;
    return undefined;
  }
  allocate(maxExclusive: number): number | undefined {
    const pasid = this.lowestFree(maxExclusive);
    if (pasid !== undefined) this.used.add(pasid);
    return pasid;
  }
}

describe('the global PASID space (iommu_alloc_global_pasid, lowest free ID as ida_alloc_range)', () => {
  it('hands out the lowest free PASID from 1, and a freed one again before any higher', () => {
    const pasids = new PasidAllocator(20);
    expect([1, 2, 3, 4].map(() => pasids.allocate(2 ** 20))).toEqual([1, 2, 3, 4]);
    pasids.free(3);
    pasids.free(2);
    expect(pasids.allocated).toBe(2);
    expect(pasids.allocate(2 ** 20)).toBe(2);
    expect(pasids.allocate(2 ** 20)).toBe(3);
    expect(pasids.allocate(2 ** 20)).toBe(5);
  });

  it('keeps the rule across words and summary levels (PASIDs 31/32, 1023/1024, 32767/32768)', () => {
    const pasids = new PasidAllocator(16);
    const handedOut = Array.from({ length: 2 ** 16 - 1 }, () => pasids.allocate(2 ** 16));
    expect(handedOut).toEqual(Array.from({ length: 2 ** 16 - 1 }, (_, i) => i + 1));
    expect(pasids.allocate(2 ** 16)).toBeUndefined();
    for (const pasid of [32768, 1024, 32767, 31, 1023, 32]) pasids.free(pasid);
    expect([...Array(6)].map(() => pasids.allocate(2 ** 16))).toEqual([31, 32, 1023, 1024, 32767, 32768]);
  });

  it('bounds each allocation by the device limit and says when nothing is free below it', () => {
    const pasids = new PasidAllocator(8);
    expect([pasids.allocate(4), pasids.allocate(4), pasids.allocate(4)]).toEqual([1, 2, 3]);
    expect(pasids.lowestFree(4)).toBeUndefined();
    expect(pasids.allocate(4)).toBeUndefined();
    expect(pasids.allocated).toBe(3);
    expect(pasids.lowestFree(8)).toBe(4); // a wider device still finds one, untaken
    expect(pasids.allocate(8)).toBe(4);
  });

  it('is exhausted at 2^bits - 1 PASIDs (0 is IOMMU_NO_PASID), and frees nothing it did not hand out', () => {
    const pasids = new PasidAllocator(1);
    expect(pasids.allocate(2)).toBe(1);
    expect(pasids.allocate(2)).toBeUndefined();
    for (const stray of [0, 2, -1, 1.5, 2 ** 20]) pasids.free(stray);
    expect(pasids.allocated).toBe(1);
    pasids.free(1);
    pasids.free(1);
    expect(pasids.allocated).toBe(0);
    expect(pasids.allocate(2)).toBe(1);
  });

  it('refuses a space of 0, 21 or a fractional number of bits with EINVAL', () => {
    for (const bits of [0, 21, 1.5])
      expect(() => new PasidAllocator(bits)).toThrow(
        expect.objectContaining({ code: 'EINVAL', reason: 'bad-pasid-bits' }),
      );
  });

  it('agrees with the lowest-free scan over any sequence of allocations and frees', () => {
    const op = fc.oneof(
      fc.record({ allocate: fc.integer({ min: 0, max: 1 << 11 }) }),
      fc.record({ free: fc.integer({ min: -2, max: (1 << 11) + 2 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 2000, maxLength: 4000 }), (ops) => {
        const pasids = new PasidAllocator(11);
        const model = new LowestFreeModel(1 << 11);
        for (const each of ops) {
          if ('allocate' in each) {
            expect(pasids.lowestFree(each.allocate)).toBe(model.lowestFree(each.allocate));
            expect(pasids.allocate(each.allocate)).toBe(model.allocate(each.allocate));
          } else {
            pasids.free(each.free);
            model.used.delete(each.free);
          }
          expect(pasids.allocated).toBe(model.used.size);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('is one per lab: PASIDs taken in one system are free in another', () => {
    const bind = (system: System, process: string) => {
      system.createProcess({ id: process });
      return system.svaBind('a', process).pasid;
    };
    const first = systemWith('vtd', 'mainline', [{ id: 'a', ...PRI_DEVICE }]);
    expect([bind(first, 'p1'), bind(first, 'p2')]).toEqual([1, 2]);
    const second = systemWith('vtd', 'mainline', [{ id: 'a', ...PRI_DEVICE }]);
    expect(bind(second, 'q1')).toBe(1);
    first.exitProcess('p1');
    first.svaUnbind('a', 'p1'); // the last bond of an exited process: PASID 1 goes back to the first lab only
    expect(bind(first, 'p3')).toBe(1);
    expect(bind(second, 'q2')).toBe(2);
  });
});
