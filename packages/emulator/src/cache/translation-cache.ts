/**
 * A set-associative translation cache, the shape of both the IOMMU's IOTLB and a device's ATC. An entry
 * maps a (tag, page) to a frame and permissions at 4 KiB, 2 MiB or 1 GiB granularity. The tag says whose
 * translation it is: for the IOTLB the domain and PASID (VT-d DID + PASID, SMMU ASID/VMID, reference §8),
 * for an ATC the PASID. The set is the virtual page number plus a per-tag offset (README.md beside this
 * file): within one tag, pages a multiple of the set count apart share a set, so strided working sets show
 * conflict misses as they do in hardware; across tags, the offset is a hash of domain and PASID, so page p
 * of many domains spreads over the sets instead of piling into one.
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

/**
 * One domain's block of IOTLB tags: 2^21 slots, one for requests without PASID and one per 20-bit PASID.
 * An IOTLB tag is domainTag * 2^21 + its spread, so the tags of one domain, every PASID, are the block
 * [iotlbDomainBase(domainTag), iotlbDomainBase(domainTag) + PASID_TAG_SPAN), and tags of the first 512
 * domains stay small integers (no boxing when passed around).
 */
export const PASID_TAG_SPAN = 2 ** 21;
const SPREAD_BITS = 21;
const SPREAD_MASK = PASID_TAG_SPAN - 1;

/** An odd multiplier (2^32 / φ) that sends consecutive domain tags far apart before the mix. */
const DOMAIN_MULTIPLIER = 0x9e3779b9;

/**
 * A tag's spread, its low 21 bits: where its pages start in the sets, as a fraction of 2^21. murmur3's
 * finaliser (xor-shift, odd multiply, twice; a bijection in which every input bit reaches the top output
 * bits) cut to 21 bits, applied to the domain tag times an odd constant plus the PASID slot: consecutive
 * domains, many PASIDs of one domain, and domain d with PASID d + c (as SVA binds produce) all land like
 * random offsets. For one domain it is a bijection of the PASID slot, so two PASIDs never share a tag;
 * domain 0 with slot 0 (an ATC's requests without PASID) has spread 0.
 */
function tagSpread(domainTag: number, pasidSlot: number): number {
  let x = (Math.imul(domainTag, DOMAIN_MULTIPLIER) + pasidSlot) & SPREAD_MASK;
  x ^= x >>> 10;
  x = Math.imul(x, 0x85ebca6b) & SPREAD_MASK;
  x ^= x >>> 11;
  x = Math.imul(x, 0xc2b2ae35) & SPREAD_MASK;
  return x ^ (x >>> 10);
}

export function iotlbDomainBase(domainTag: number): number {
  return domainTag * PASID_TAG_SPAN;
}

/** The IOTLB tag of (domain, PASID); pasid -1 is a request without PASID. */
export function iotlbTag(domainTag: number, pasid: number): number {
  return iotlbDomainBase(domainTag) + tagSpread(domainTag, pasid + 1);
}

/** The ATC tag of a PASID: an ATC holds one device's translations, so the PASID alone (0: no PASID). */
export function atcTag(pasid: number): number {
  // spread(0, 0) is 0: requests without PASID, the common case, skip the hashing.
  return pasid < 0 ? 0 : tagSpread(0, pasid + 1);
}

const EMPTY = -1;

export class TranslationCache {
  readonly entries: number;
  readonly ways: number;
  readonly sets: number;
  readonly replacement: Replacement;
  private readonly setMask: number;
  /** Scale a tag's spread to its first set: a shift when the set count is a power of two, else sets / 2^21. */
  private readonly spreadShift: number;
  private readonly spreadScale: number;
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
    this.spreadShift = SPREAD_BITS - Math.log2(this.sets);
    this.spreadScale = this.sets / PASID_TAG_SPAN;
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
    const offset = this.setOffset(tag);
    if ((this.levelsInUse & 2) !== 0) {
      const first = this.setOf(page, offset) * ways;
      for (let slot = first; slot < first + ways; slot++) {
        if (bases[slot] === page && tags[slot] === tag && levels[slot] === 1) return this.hitAt(slot, 0, out);
      }
    }
    for (let level = 2; level <= 3; level++) {
      if ((this.levelsInUse & (1 << level)) === 0) continue;
      const span = pagesPerEntry(level);
      const base = page - offsetInSpan(page, span);
      const first = this.setOf(base / span, offset) * ways;
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
    const vpn = leafLevel === 1 ? page : base / pagesPerEntry(leafLevel);
    const first = this.setOf(vpn, this.setOffset(tag)) * this.ways;
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

  /** The first set of `tag`'s pages: its spread (low 21 bits) scaled to the set count. */
  private setOffset(tag: number): number {
    const spread = tag & SPREAD_MASK;
    return this.setMask >= 0 ? spread >>> this.spreadShift : Math.floor(spread * this.spreadScale);
  }

  /**
   * Set of the virtual page number `vpn` (at its entry's size) under a tag's offset: a mask when the set
   * count is a power of two (integer division is slow).
   */
  private setOf(vpn: number, offset: number): number {
    return this.setMask >= 0 ? (vpn + offset) & this.setMask : ((vpn & 0x7fffffff) + offset) % this.sets;
  }
}
