import { describe, expect, it } from 'vitest';
import { EmulatorError } from '../errors';
import { Random } from '../sim/random';
import {
  PASID_TAG_SPAN,
  type Replacement,
  TranslationCache,
  atcTag,
  iotlbDomainBase,
  iotlbTag,
  newCacheHit,
} from './translation-cache';

const TWO_MIB = 512;
const ONE_GIB = 262144;
const RW = 3;

const cache = (entries: number, ways: number, replacement: Replacement, seed = 1) =>
  new TranslationCache({ entries, ways, replacement }, new Random(seed));

/** Base pages of the valid entries of `tag`, sorted. */
const cachedPages = (c: TranslationCache, tag = 1) =>
  c
    .contents()
    .filter((entry) => entry.tag === tag)
    .map((entry) => entry.page)
    .sort((a, b) => a - b);

function lookup(c: TranslationCache, tag: number, page: number) {
  const out = newCacheHit();
  const hit = c.lookup(tag, page, out);
  return hit ? { pfn: out.pfn, perms: out.perms, leafLevel: out.leafLevel } : null;
}

/** Everything observable about a cache, to check that an invalidation dropped exactly what it should. */
const picture = (c: TranslationCache) =>
  JSON.stringify([c.contents(), c.valid, c.hits, c.misses, c.evictions]);

describe('translation cache: lookups (reference §8)', () => {
  it('misses an empty cache, then hits the inserted translation with its frame and permissions', () => {
    const c = cache(16, 4, 'lru');
    expect(lookup(c, 1, 100)).toBeNull();
    c.insert(1, 100, 1, 7, RW);
    expect(lookup(c, 1, 100)).toEqual({ pfn: 7, perms: RW, leafLevel: 1 });
    expect(lookup(c, 1, 101)).toBeNull();
    expect(lookup(c, 1, 100)).not.toBeNull();
    expect([c.hits, c.misses, c.valid, c.evictions]).toEqual([2, 2, 1, 0]);
    expect(c.hitRate()).toBe(0.5);
  });

  it('reports a hit rate of 0 before any lookup', () => {
    expect(cache(4, 4, 'lru').hitRate()).toBe(0);
  });

  it('re-inserting a cached translation updates it in place without taking a second way', () => {
    const c = cache(4, 4, 'lru');
    c.insert(1, 10, 1, 100, RW);
    c.insert(1, 10, 1, 200, 1);
    expect(c.valid).toBe(1);
    expect(c.contents()).toEqual([{ tag: 1, page: 10, pfn: 200, leafLevel: 1, perms: 1 }]);
    expect(lookup(c, 1, 10)).toEqual({ pfn: 200, perms: 1, leafLevel: 1 });
  });

  it('a 2 MiB entry hits for every page inside it, with the frame at the same offset', () => {
    const c = cache(16, 4, 'lru');
    // Inserted from a page in the middle of the leaf: the entry covers the whole 2 MiB.
    c.insert(1, TWO_MIB * 3 + 17, 2, TWO_MIB * 9 + 17, RW);
    expect(c.contents()).toEqual([{ tag: 1, page: TWO_MIB * 3, pfn: TWO_MIB * 9, leafLevel: 2, perms: RW }]);
    for (const offset of [0, 1, 17, 300, 511]) {
      expect(lookup(c, 1, TWO_MIB * 3 + offset)).toEqual({
        pfn: TWO_MIB * 9 + offset,
        perms: RW,
        leafLevel: 2,
      });
    }
    expect(lookup(c, 1, TWO_MIB * 3 - 1)).toBeNull();
    expect(lookup(c, 1, TWO_MIB * 4)).toBeNull();
    expect(lookup(c, 2, TWO_MIB * 3)).toBeNull();
  });

  it('a 1 GiB entry hits for every page inside it', () => {
    const c = cache(16, 4, 'lru');
    c.insert(5, ONE_GIB * 2 + 999, 3, ONE_GIB * 6 + 999, 1);
    for (const offset of [0, 999, 100000, ONE_GIB - 1]) {
      expect(lookup(c, 5, ONE_GIB * 2 + offset)).toEqual({
        pfn: ONE_GIB * 6 + offset,
        perms: 1,
        leafLevel: 3,
      });
    }
    expect(lookup(c, 5, ONE_GIB * 3)).toBeNull();
  });

  it('keeps 4 KiB, 2 MiB and 1 GiB entries side by side', () => {
    const c = cache(64, 4, 'lru');
    c.insert(1, 5, 1, 50, RW);
    c.insert(1, TWO_MIB * 2, 2, TWO_MIB * 20, RW);
    c.insert(1, ONE_GIB, 3, ONE_GIB * 4, RW);
    expect(lookup(c, 1, 5)).toMatchObject({ pfn: 50, leafLevel: 1 });
    expect(lookup(c, 1, TWO_MIB * 2 + 5)).toMatchObject({ pfn: TWO_MIB * 20 + 5, leafLevel: 2 });
    expect(lookup(c, 1, ONE_GIB + 5)).toMatchObject({ pfn: ONE_GIB * 4 + 5, leafLevel: 3 });
    expect(lookup(c, 1, 6)).toBeNull();
  });
});

describe('translation cache: tags (VT-d DID + PASID, SMMU ASID/VMID, reference §8)', () => {
  it('keeps the same page of two domains, or of two PASIDs of one domain, as different entries', () => {
    const c = cache(64, 8, 'lru');
    c.insert(iotlbTag(1, -1), 5, 1, 50, RW);
    c.insert(iotlbTag(1, 7), 5, 1, 57, RW);
    c.insert(iotlbTag(2, -1), 5, 1, 25, RW);
    expect(c.valid).toBe(3);
    expect(lookup(c, iotlbTag(1, -1), 5)?.pfn).toBe(50);
    expect(lookup(c, iotlbTag(1, 7), 5)?.pfn).toBe(57);
    expect(lookup(c, iotlbTag(2, -1), 5)?.pfn).toBe(25);
    expect(lookup(c, iotlbTag(1, 8), 5)).toBeNull();
    expect(lookup(c, iotlbTag(3, -1), 5)).toBeNull();
  });

  it('gives every (domain, PASID) a distinct tag, the tags of one domain in one contiguous block', () => {
    const tags = new Set<number>();
    for (const domain of [0, 1, 2, 65535]) {
      for (const pasid of [-1, 0, 1, 2 ** 20 - 1]) {
        const tag = iotlbTag(domain, pasid);
        tags.add(tag);
        expect(tag).toBeGreaterThanOrEqual(iotlbDomainBase(domain));
        expect(tag).toBeLessThan(iotlbDomainBase(domain) + PASID_TAG_SPAN);
        expect(iotlbDomainBase(domain + 1) - iotlbDomainBase(domain)).toBe(PASID_TAG_SPAN);
      }
    }
    expect(tags.size).toBe(16);
  });

  it('gives every one of the 2^21 slots of a domain (no PASID, each 20-bit PASID) a tag of its own', () => {
    for (const domain of [0, 1, 1000, 65535]) {
      const seen = new Uint8Array(PASID_TAG_SPAN);
      for (let pasid = -1; pasid < 2 ** 20; pasid++)
        seen[iotlbTag(domain, pasid) - iotlbDomainBase(domain)]!++;
      // 2^20 + 1 slots used, each once: the spread is a bijection of the PASID slot.
      expect(seen.reduce((most, count) => Math.max(most, count), 0)).toBe(1);
    }
  });

  it('an ATC tags requests without PASID 0, and each PASID apart', () => {
    expect(atcTag(-1)).toBe(0);
    const tags = new Set(Array.from({ length: 4096 }, (_, pasid) => atcTag(pasid)));
    expect(tags.size).toBe(4096);
    expect(tags.has(0)).toBe(false);
  });
});

describe('translation cache: replacement', () => {
  /** One set of four ways: insert A B C D, hit A and C, then insert E and F. */
  const scenario = (replacement: Replacement) => {
    const c = cache(4, 4, replacement);
    for (const page of [10, 11, 12, 13]) c.insert(1, page, 1, page * 10, RW);
    lookup(c, 1, 10);
    lookup(c, 1, 12);
    c.insert(1, 14, 1, 140, RW);
    c.insert(1, 15, 1, 150, RW);
    return c;
  };

  it('LRU evicts the least recently used ways of a full set (hits refresh an entry)', () => {
    const c = scenario('lru');
    expect(cachedPages(c)).toEqual([10, 12, 14, 15]);
    expect(c.evictions).toBe(2);
    expect(c.valid).toBe(4);
  });

  it('FIFO evicts the oldest inserts even when they were just hit', () => {
    const c = scenario('fifo');
    expect(cachedPages(c)).toEqual([12, 13, 14, 15]);
    expect(c.evictions).toBe(2);
  });

  it('LRU and FIFO evict only inside the set of the new entry', () => {
    for (const replacement of ['lru', 'fifo'] as const) {
      const c = cache(8, 2, replacement); // 4 sets of 2 ways
      // Pages that differ by a multiple of the set count share a set (low bits of the page number).
      c.insert(0, 0, 1, 0, RW);
      c.insert(0, 4, 1, 4, RW);
      c.insert(0, 1, 1, 1, RW);
      c.insert(0, 5, 1, 5, RW);
      c.insert(0, 8, 1, 8, RW);
      expect(cachedPages(c, 0), replacement).toEqual([1, 4, 5, 8]);
      expect(c.evictions).toBe(1);
    }
  });

  it('random replacement is deterministic for a seed, and the seed matters', () => {
    const survivors = (seed: number) => {
      const c = cache(8, 8, 'random', seed);
      for (let page = 0; page < 40; page++) c.insert(1, page, 1, page, RW);
      expect(c.valid).toBe(8);
      expect(c.evictions).toBe(32);
      return cachedPages(c).join(',');
    };
    expect(survivors(3)).toBe(survivors(3));
    expect(survivors(12345)).toBe(survivors(12345));
    const outcomes = new Set(Array.from({ length: 10 }, (_, seed) => survivors(seed)));
    expect(outcomes.size).toBeGreaterThan(1);
  });

  it('random replacement keeps the victim inside the set of the new entry', () => {
    const c = cache(8, 2, 'random', 5); // 4 sets of 2 ways
    c.insert(0, 1, 1, 1, RW);
    c.insert(0, 2, 1, 2, RW);
    for (let page = 0; page < 40; page += 4) c.insert(0, page, 1, page, RW); // all in one set
    expect(lookup(c, 0, 1)).not.toBeNull();
    expect(lookup(c, 0, 2)).not.toBeNull();
    expect(c.valid).toBe(4);
  });

  it('fills empty ways before evicting anything', () => {
    for (const replacement of ['lru', 'fifo', 'random'] as const) {
      const c = cache(8, 8, replacement);
      for (let page = 0; page < 8; page++) c.insert(1, page, 1, page, RW);
      expect(c.evictions).toBe(0);
      expect(cachedPages(c)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    }
  });
});

describe('translation cache: set conflicts', () => {
  it('with one way, two pages mapping to the same set evict each other (conflict misses)', () => {
    for (const tag of [0, 1, iotlbTag(3, 17)]) {
      const c = cache(4, 1, 'lru'); // 4 sets of one way
      c.insert(tag, 1, 1, 1, RW);
      c.insert(tag, 5, 1, 5, RW); // same low bits as page 1: same set
      expect(lookup(c, tag, 1), `tag ${tag}`).toBeNull();
      expect(lookup(c, tag, 5)).not.toBeNull();
      c.insert(tag, 1, 1, 1, RW);
      expect(lookup(c, tag, 5)).toBeNull();
      expect(c.evictions).toBe(2);
      expect(c.valid).toBe(1);
    }
  });

  it('with one way, pages in different sets coexist', () => {
    const c = cache(4, 1, 'lru');
    for (let page = 0; page < 4; page++) c.insert(7, page, 1, page + 100, RW);
    expect(c.evictions).toBe(0);
    for (let page = 0; page < 4; page++) expect(lookup(c, 7, page)?.pfn).toBe(page + 100);
  });

  it('a strided working set larger than one set thrashes a direct-mapped cache but fits a fully associative one', () => {
    const run = (ways: number) => {
      const c = cache(16, ways, 'lru');
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 4; i++) {
          const page = i * 16; // stride of the set count: every page in the same set when direct-mapped
          if (!lookup(c, 1, page)) c.insert(1, page, 1, page, RW);
        }
      }
      return c.hits;
    };
    expect(run(1)).toBe(0);
    expect(run(16)).toBe(12);
  });

  it('works with a set count that is not a power of two', () => {
    const c = cache(12, 4, 'lru');
    expect(c.sets).toBe(3);
    for (let page = 0; page < 12; page++) c.insert(1, page * 1000, 1, page, RW);
    for (const entry of c.contents()) expect(lookup(c, 1, entry.page)?.pfn).toBe(entry.page / 1000);
    expect(c.valid + c.evictions).toBe(12);
    c.insert(1, 99999, 1, 1, RW);
    expect(c.valid).toBeLessThanOrEqual(12);
  });
});

describe('translation cache: invalidation', () => {
  const domain = (d: number) => [iotlbDomainBase(d), iotlbDomainBase(d) + PASID_TAG_SPAN - 1] as const;

  function filled() {
    const c = cache(64, 8, 'lru');
    for (let page = 0; page < 8; page++) {
      c.insert(iotlbTag(1, -1), page, 1, page, RW);
      c.insert(iotlbTag(2, -1), page, 1, page, RW);
    }
    c.insert(iotlbTag(1, 5), 3, 1, 33, RW); // domain 1, PASID 5
    c.insert(iotlbTag(1, -1), TWO_MIB, 2, TWO_MIB, RW); // covers pages 512..1023
    return c;
  }

  it('drops exactly the entries of the tag range that overlap the page range', () => {
    const c = filled();
    const [low, high] = domain(1);
    expect(c.invalidate(low, high, 2, 4)).toBe(3); // pages 2 and 3 of no PASID, page 3 of PASID 5
    expect(lookup(c, iotlbTag(1, -1), 1)).not.toBeNull();
    expect(lookup(c, iotlbTag(1, -1), 2)).toBeNull();
    expect(lookup(c, iotlbTag(1, -1), 3)).toBeNull();
    expect(lookup(c, iotlbTag(1, 5), 3)).toBeNull();
    expect(lookup(c, iotlbTag(1, -1), 4)).not.toBeNull();
    expect(lookup(c, iotlbTag(2, -1), 2)).not.toBeNull();
    expect(lookup(c, iotlbTag(2, -1), 3)).not.toBeNull();
    expect(c.valid).toBe(18 - 3);
  });

  it('one tag alone is a range of one: a PASID invalidation leaves the domain’s other entries', () => {
    const c = filled();
    expect(c.invalidate(iotlbTag(1, 5), iotlbTag(1, 5))).toBe(1);
    expect(lookup(c, iotlbTag(1, -1), 3)).not.toBeNull();
  });

  it('drops a large entry when the page range touches any page of it, and only then', () => {
    const c = filled();
    const [low, high] = domain(1);
    const before = picture(c);
    // Ranges that end just before the 2M entry or start just after it drop nothing.
    expect(c.invalidate(low, high, 8, TWO_MIB)).toBe(0);
    expect(c.invalidate(low, high, 2 * TWO_MIB, 3 * TWO_MIB)).toBe(0);
    expect(picture(c)).toBe(before);
    // Its last page alone is enough.
    expect(c.invalidate(low, high, 2 * TWO_MIB - 1, 2 * TWO_MIB)).toBe(1);
    expect(lookup(c, iotlbTag(1, -1), TWO_MIB)).toBeNull();
    expect(c.valid).toBe(17);
  });

  it('a domain-wide invalidation drops every entry of the domain, every PASID, and nothing else', () => {
    const c = filled();
    const [low, high] = domain(2);
    expect(c.invalidate(low, high)).toBe(8);
    expect(cachedPages(c, iotlbTag(2, -1))).toEqual([]);
    expect(cachedPages(c, iotlbTag(1, -1))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, TWO_MIB]);
    const [low1, high1] = domain(1);
    expect(c.invalidate(low1, high1)).toBe(10);
    expect(c.valid).toBe(0);
  });

  it('a tag range with no entries drops nothing and changes nothing', () => {
    const c = filled();
    const before = picture(c);
    const [low, high] = domain(9);
    expect(c.invalidate(low, high)).toBe(0);
    expect(picture(c)).toBe(before);
  });

  it('invalidateAll drops everything and reports how many; lookups then miss', () => {
    const c = filled();
    expect(c.invalidateAll()).toBe(18);
    expect(c.valid).toBe(0);
    expect(c.contents()).toEqual([]);
    expect(lookup(c, iotlbTag(1, -1), TWO_MIB + 4)).toBeNull();
    expect(lookup(c, iotlbTag(1, -1), 1)).toBeNull();
    expect(c.invalidateAll()).toBe(0);
    // The cache works as before afterwards.
    c.insert(1, 1, 1, 1, RW);
    expect(lookup(c, 1, 1)).not.toBeNull();
  });
});

describe('translation cache: geometry', () => {
  const refused = (entries: number, ways: number, replacement: string) => {
    try {
      cache(entries, ways, replacement as Replacement);
    } catch (error) {
      if (error instanceof EmulatorError) return error;
      throw error;
    }
    throw new Error('expected a refusal');
  };

  it('derives the set count from entries and ways', () => {
    const c = cache(64, 8, 'fifo');
    expect([c.entries, c.ways, c.sets, c.replacement]).toEqual([64, 8, 8, 'fifo']);
    expect(cache(2 ** 20, 64, 'lru').sets).toBe(16384);
  });

  it('refuses impossible geometries with EINVAL (reason bad-cache-geometry)', () => {
    for (const [entries, ways, replacement] of [
      [0, 1, 'lru'],
      [2 ** 20 + 1, 1, 'lru'],
      [8.5, 1, 'lru'],
      [10, 4, 'lru'], // ways do not divide entries
      [16, 0, 'lru'],
      [128, 128, 'lru'], // more than 64 ways
      [16, 1.5, 'lru'],
      [8, 2, 'mru'],
    ] as const) {
      expect(refused(entries, ways, replacement), `${entries}/${ways}/${replacement}`).toMatchObject({
        code: 'EINVAL',
        reason: 'bad-cache-geometry',
      });
    }
  });
});
