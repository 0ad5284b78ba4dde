/**
 * A set-associative translation cache, the shape of both the IOMMU's IOTLB and a device's ATC. An entry
 * maps a (tag, page) to a frame and permissions at 4 KiB, 2 MiB or 1 GiB granularity. The tag says whose
 * translation it is: for the IOTLB the domain and PASID (VT-d DID + PASID, SMMU ASID/VMID, reference §8),
 * for an ATC the PASID. The set index takes low bits of the virtual page number, as hardware does, so
 * strided working sets show conflict misses.
 *
 * Everything lives in typed arrays: a lookup scans one set and allocates nothing.
 */
import { offsetInSpan, pagesPerEntry } from '../address';
import { fail } from '../errors';
import type { Random } from '../sim/random';

export type Replacement = 'lru' | 'fifo' | 'random';

export interface CacheGeometry {
  entries: number;
  ways: number;
  replacement: Replacement;
}

/** Scratch result of a lookup. */
export interface CacheHit {
  pfn: number;
  perms: number;
  leafLevel: number;
}

export function newCacheHit(): CacheHit {
  return { pfn: 0, perms: 0, leafLevel: 0 };
}

/** Tag ranges: an IOTLB tag is domainTag * 2^21 + (pasid + 1), so one domain's tags are contiguous. */
export const PASID_TAG_SPAN = 2 ** 21;

export function iotlbTag(domainTag: number, pasid: number): number {
  return domainTag * PASID_TAG_SPAN + (pasid + 1);
}

const EMPTY = -1;

export class TranslationCache {
  readonly entries: number;
  readonly ways: number;
  readonly sets: number;
  readonly replacement: Replacement;
  private readonly setMask: number;
  private readonly tags: Float64Array;
  private readonly bases: Float64Array;
  private readonly pfns: Float64Array;
  private readonly levels: Uint8Array;
  private readonly perms: Uint8Array;
  private readonly stamps: Float64Array;
  private clock = 0;
  /** Bit L set when a level-L entry may be present, so lookups skip sizes never cached. */
  private levelsInUse = 0;
  hits = 0;
  misses = 0;
  evictions = 0;
  valid = 0;

  constructor(
    geometry: CacheGeometry,
    private readonly random: Random,
  ) {
    const { entries, ways, replacement } = geometry;
    if (!Number.isInteger(entries) || entries < 1 || entries > 2 ** 20) {
      fail('EINVAL', `cache size ${entries} must be 1..1048576 entries.`, { reason: 'bad-cache-geometry' });
    }
    if (!Number.isInteger(ways) || ways < 1 || ways > 64 || entries % ways !== 0) {
      fail('EINVAL', `cache ways ${ways} must be 1..64 and divide the ${entries} entries.`, {
        reason: 'bad-cache-geometry',
      });
    }
    if (replacement !== 'lru' && replacement !== 'fifo' && replacement !== 'random') {
      fail('EINVAL', `replacement ${String(replacement)} must be lru, fifo or random.`, {
        reason: 'bad-cache-geometry',
      });
    }
    this.entries = entries;
    this.ways = ways;
    this.sets = entries / ways;
    this.setMask = (this.sets & (this.sets - 1)) === 0 ? this.sets - 1 : -1;
    this.replacement = replacement;
    this.tags = new Float64Array(entries).fill(EMPTY);
    this.bases = new Float64Array(entries);
    this.pfns = new Float64Array(entries);
    this.levels = new Uint8Array(entries);
    this.perms = new Uint8Array(entries);
    this.stamps = new Float64Array(entries);
  }

  /** Hot path: no allocation. 4 KiB entries are probed first, larger ones only if any were cached. */
  lookup(tag: number, page: number, out: CacheHit): boolean {
    const ways = this.ways;
    const bases = this.bases;
    const tags = this.tags;
    const levels = this.levels;
    if ((this.levelsInUse & 2) !== 0) {
      const first = this.setIndex(page ^ tag) * ways;
      for (let slot = first; slot < first + ways; slot++) {
        if (bases[slot] === page && tags[slot] === tag && levels[slot] === 1) return this.hitAt(slot, 0, out);
      }
    }
    for (let level = 2; level <= 3; level++) {
      if ((this.levelsInUse & (1 << level)) === 0) continue;
      const span = pagesPerEntry(level);
      const base = page - offsetInSpan(page, span);
      const first = this.setOf(tag, base, span) * ways;
      for (let slot = first; slot < first + ways; slot++) {
        if (bases[slot] === base && tags[slot] === tag && levels[slot] === level)
          return this.hitAt(slot, page - base, out);
      }
    }
    this.misses++;
    return false;
  }

  private hitAt(slot: number, offset: number, out: CacheHit): boolean {
    if (this.replacement === 'lru') this.stamps[slot] = ++this.clock;
    out.pfn = this.pfns[slot]! + offset;
    out.perms = this.perms[slot]!;
    out.leafLevel = this.levels[slot]!;
    this.hits++;
    return true;
  }

  /** Caches the translation of `page` (frame `pfn`) as a leaf of `leafLevel`. */
  insert(tag: number, page: number, leafLevel: number, pfn: number, perms: number): void {
    // 4 KiB leaves (the common case) skip the span arithmetic.
    const offset = leafLevel === 1 ? 0 : offsetInSpan(page, pagesPerEntry(leafLevel));
    const base = page - offset;
    const first =
      (leafLevel === 1 ? this.setIndex(page ^ tag) : this.setOf(tag, base, pagesPerEntry(leafLevel))) *
      this.ways;
    // One pass: the entry itself (refresh in place), else the first empty way, else the oldest stamp.
    const { tags, stamps, bases, levels } = this;
    let victim = -1;
    let empty = -1;
    let oldest = first;
    let oldestStamp = stamps[first]!;
    for (let slot = first, end = first + this.ways; slot < end; slot++) {
      const current = tags[slot]!;
      if (bases[slot] === base && current === tag && levels[slot] === leafLevel) {
        victim = slot;
        break;
      }
      if (current === EMPTY && empty < 0) empty = slot;
      // Branch-free minimum: the stamps of a full set are in no predictable order.
      const stamp = stamps[slot]!;
      const older = stamp < oldestStamp;
      oldestStamp = older ? stamp : oldestStamp;
      oldest = older ? slot : oldest;
    }
    if (victim < 0 && empty >= 0) {
      victim = empty;
      this.valid++;
    } else if (victim < 0) {
      // LRU and FIFO both evict the oldest stamp; they differ in whether a hit refreshes it.
      victim = this.replacement === 'random' ? first + this.random.int(0, this.ways - 1) : oldest;
      this.evictions++;
    }
    tags[victim] = tag;
    bases[victim] = base;
    this.pfns[victim] = pfn - offset;
    levels[victim] = leafLevel;
    this.perms[victim] = perms;
    stamps[victim] = ++this.clock;
    this.levelsInUse |= 1 << leafLevel;
  }

  /**
   * Drops entries whose tag is in [tagLow, tagHigh] and whose span overlaps [startPage, endPage).
   * Returns how many were dropped.
   */
  invalidate(tagLow: number, tagHigh: number, startPage = 0, endPage = Number.POSITIVE_INFINITY): number {
    let dropped = 0;
    for (let slot = 0; slot < this.entries; slot++) {
      const tag = this.tags[slot]!;
      if (tag === EMPTY || tag < tagLow || tag > tagHigh) continue;
      const base = this.bases[slot]!;
      if (base >= endPage || base + pagesPerEntry(this.levels[slot]!) <= startPage) continue;
      this.tags[slot] = EMPTY;
      dropped++;
    }
    this.valid -= dropped;
    return dropped;
  }

  invalidateAll(): number {
    const dropped = this.valid;
    this.tags.fill(EMPTY);
    this.valid = 0;
    this.levelsInUse = 0;
    return dropped;
  }

  /** Valid entries, for the inspector: tag, base page, frame, level, permissions. */
  contents(): { tag: number; page: number; pfn: number; leafLevel: number; perms: number }[] {
    const out = [];
    for (let slot = 0; slot < this.entries; slot++) {
      if (this.tags[slot] === EMPTY) continue;
      out.push({
        tag: this.tags[slot]!,
        page: this.bases[slot]!,
        pfn: this.pfns[slot]!,
        leafLevel: this.levels[slot]!,
        perms: this.perms[slot]!,
      });
    }
    return out;
  }

  hitRate(): number {
    const total = this.hits + this.misses;
    return total === 0 ? 0 : this.hits / total;
  }

  private setOf(tag: number, base: number, span: number): number {
    // Low bits of the virtual page number of this size, folded with the tag so two domains using the same
    // addresses do not always collide.
    return this.setIndex((base / span) ^ tag);
  }

  /** Set of a hashed key: a mask when the set count is a power of two (integer division is slow). */
  private setIndex(key: number): number {
    return this.setMask >= 0 ? key & this.setMask : (key & 0x7fffffff) % this.sets;
  }
}
