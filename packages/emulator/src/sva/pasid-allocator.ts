/**
 * The global PASID space (iommu_alloc_global_pasid, drivers/iommu/iommu.c): IDs from 1 (0 is IOMMU_NO_PASID)
 * up to the space's width, each allocation bounded by the device's own PASID limit. Linux takes the ID with
 * ida_alloc_range(&iommu_global_pasid_ida, IOMMU_FIRST_GLOBAL_PASID, max_pasids - 1), which hands out the
 * lowest free ID of the range (lib/idr.c: the first chunk still marked XA_FREE_MARK, then find_next_zero_bit
 * in it); a freed ID is the next one handed out if it is the lowest. This allocator keeps exactly that rule.
 *
 * To find the lowest free ID without a scan, free IDs are bits of a bitmap, 32 a word, under summary levels
 * whose bit says "the word below has a free ID" (the role of the IDA's free mark): the lowest free ID is a
 * descent of one word a level (four for 2^20 IDs), and taking or freeing one updates at most as many words.
 */
import { fail } from '../errors';

export const IOMMU_FIRST_GLOBAL_PASID = 1;

const WORD_BITS = 32;
const WORD_SHIFT = 5;
const BIT_MASK = WORD_BITS - 1;

/** Index of the lowest set bit of a non-zero word. */
function lowestBit(word: number): number {
  return 31 - Math.clz32(word & -word);
}

export class PasidAllocator {
  /** levels[0]: a bit per ID, set when free; levels[k + 1]: a bit per word of levels[k], set when non-zero. */
  private readonly levels: Uint32Array[] = [];
  readonly limit: number;
  private count = 0;

  constructor(bits: number) {
    if (!Number.isInteger(bits) || bits < 1 || bits > 20)
      fail('EINVAL', `PASID space of ${bits} bits must be 1..20.`, { reason: 'bad-pasid-bits' });
    this.limit = 2 ** bits;
    // Everything free: at each level the first `entries` bits set (IDs, then words of the level below).
    for (let entries = this.limit; ;) {
      const words = new Uint32Array(Math.ceil(entries / WORD_BITS)).fill(0xffffffff);
      if ((entries & BIT_MASK) !== 0) words[words.length - 1] = (1 << (entries & BIT_MASK)) - 1;
      this.levels.push(words);
      if (entries <= WORD_BITS) break;
      entries = words.length;
    }
    // PASID 0 is IOMMU_NO_PASID, never handed out; word 0 keeps PASID 1, so no summary bit changes.
    this.levels[0]![0]! &= ~1;
  }

  get allocated(): number {
    return this.count;
  }

  /** The lowest free PASID below `maxExclusive`, without taking it; undefined when none is free. */
  lowestFree(maxExclusive: number): number | undefined {
    const { levels } = this;
    let index = 0;
    for (let level = levels.length - 1; level >= 0; level--) {
      const word = levels[level]![index]!;
      if (word === 0) return undefined; // only the top word can be empty: below it, set bits lead to free IDs
      index = (index << WORD_SHIFT) | lowestBit(word);
    }
    return index < maxExclusive ? index : undefined;
  }

  /** The lowest free PASID below `maxExclusive`, marked used; undefined when none is free. */
  allocate(maxExclusive: number): number | undefined {
    const pasid = this.lowestFree(maxExclusive);
    if (pasid === undefined) return undefined;
    // Clear its bit, and each summary bit whose word that left empty.
    let index = pasid;
    for (const words of this.levels) {
      const word = index >>> WORD_SHIFT;
      words[word]! &= ~(1 << (index & BIT_MASK));
      if (words[word] !== 0) break;
      index = word;
    }
    this.count++;
    return pasid;
  }

  /** Returns a PASID to the space; one not allocated (or outside it) is left as it is. */
  free(pasid: number): void {
    if (!Number.isInteger(pasid) || pasid < IOMMU_FIRST_GLOBAL_PASID || pasid >= this.limit) return;
    if ((this.levels[0]![pasid >>> WORD_SHIFT]! & (1 << (pasid & BIT_MASK))) !== 0) return; // already free
    this.count--;
    // Set its bit, and each summary bit whose word was empty until now.
    let index = pasid;
    for (const words of this.levels) {
      const word = index >>> WORD_SHIFT;
      const wasEmpty = words[word] === 0;
      words[word]! |= 1 << (index & BIT_MASK);
      if (!wasEmpty) break;
      index = word;
    }
  }
}
