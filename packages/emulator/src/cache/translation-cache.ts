/**
 * A set-associative translation cache, the shape of both the IOMMU's IOTLB and a device's ATC. An entry
 * maps a (tag, page) to a frame and permissions at 4 KiB, 2 MiB or 1 GiB granularity. The tag says whose
 * translation it is: for the IOTLB the domain and PASID (VT-d DID + PASID, SMMU ASID/VMID, reference §8),
 * for an ATC the PASID. The set index takes low bits of the virtual page number, as hardware does, so
 * strided working sets show conflict misses.
 *
 * Everything lives in typed arrays: a lookup scans one set and allocates nothing.
 */
import { pagesPerEntry } from '../address';
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
    this.replacement = replacement;
    this.tags = new Float64Array(entries).fill(EMPTY);
    this.bases = new Float64Array(entries);
    this.pfns = new Float64Array(entries);
    this.levels = new Uint8Array(entries);
    this.perms = new Uint8Array(entries);
    this.stamps = new Float64Array(entries);
  }

  /** Hot path: no allocation. */
  lookup(tag: number, page: number, out: CacheHit): boolean {
    for (let level = 1; level <= 3; level++) {
      if ((this.levelsInUse & (1 << level)) === 0) continue;
      const span = pagesPerEntry(level);
      const base = page - (page % span);
      const first = this.setOf(tag, base, span) * this.ways;
      for (let slot = first; slot < first + this.ways; slot++) {
        if (this.tags[slot] !== tag || this.bases[slot] !== base || this.levels[slot] !== level) continue;
        if (this.replacement === 'lru') this.stamps[slot] = ++this.clock;
        out.pfn = this.pfns[slot]! + (page - base);
        out.perms = this.perms[slot]!;
        out.leafLevel = level;
        this.hits++;
        return true;
      }
    }
    this.misses++;
    return false;
  }

  /** Caches the translation of `page` (frame `pfn`) as a leaf of `leafLevel`. */
  insert(tag: number, page: number, leafLevel: number, pfn: number, perms: number): void {
    const span = pagesPerEntry(leafLevel);
    const offset = page % span;
    const base = page - offset;
    const first = this.setOf(tag, base, span) * this.ways;
    let victim = -1;
    for (let slot = first; slot < first + this.ways; slot++) {
      const current = this.tags[slot];
      if (current === tag && this.bases[slot] === base && this.levels[slot] === leafLevel) {
        victim = slot; // refresh in place
        break;
      }
      if (current === EMPTY && victim < 0) victim = slot;
    }
    if (victim < 0) {
      victim = this.chooseVictim(first);
      this.evictions++;
    } else if (this.tags[victim] === EMPTY) {
      this.valid++;
    }
    this.tags[victim] = tag;
    this.bases[victim] = base;
    this.pfns[victim] = pfn - offset;
    this.levels[victim] = leafLevel;
    this.perms[victim] = perms;
    this.stamps[victim] = ++this.clock;
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
    return (((base / span) ^ tag) >>> 0) % this.sets;
  }

  private chooseVictim(first: number): number {
    if (this.replacement === 'random') return first + this.random.int(0, this.ways - 1);
    // LRU and FIFO both evict the oldest stamp; they differ in whether a hit refreshes it.
    let victim = first;
    for (let slot = first + 1; slot < first + this.ways; slot++)
      if (this.stamps[slot]! < this.stamps[victim]!) victim = slot;
    return victim;
  }
}
