/**
 * The global PASID space (iommu_alloc_global_pasid): IDs from 1 (0 is IOMMU_NO_PASID) up to the space's
 * width, lowest free first as an IDA allocates, each allocation bounded by the device's own PASID limit.
 */
import { fail } from '../errors';

export const IOMMU_FIRST_GLOBAL_PASID = 1;

export class PasidAllocator {
  private readonly used: Uint8Array;
  readonly limit: number;
  private count = 0;

  constructor(bits: number) {
    if (!Number.isInteger(bits) || bits < 1 || bits > 20)
      fail('EINVAL', `PASID space of ${bits} bits must be 1..20.`, { reason: 'bad-pasid-bits' });
    this.limit = 2 ** bits;
    this.used = new Uint8Array(this.limit);
  }

  get allocated(): number {
    return this.count;
  }

  /** Lowest free PASID below `maxExclusive`, marked used; undefined when none is free. */
  allocate(maxExclusive: number): number | undefined {
    const end = Math.min(maxExclusive, this.limit);
    for (let pasid = IOMMU_FIRST_GLOBAL_PASID; pasid < end; pasid++) {
      if (this.used[pasid] === 0) {
        this.used[pasid] = 1;
        this.count++;
        return pasid;
      }
    }
    return undefined;
  }

  /** Whether a PASID below `maxExclusive` is free, without taking it. */
  hasFree(maxExclusive: number): boolean {
    const end = Math.min(maxExclusive, this.limit);
    for (let pasid = IOMMU_FIRST_GLOBAL_PASID; pasid < end; pasid++) if (this.used[pasid] === 0) return true;
    return false;
  }

  free(pasid: number): void {
    if (this.used[pasid] === 1) {
      this.used[pasid] = 0;
      this.count--;
    }
  }
}
