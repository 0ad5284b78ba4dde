import { describe, expect, it } from 'vitest';
import { Random } from '../sim/random';
import { TranslationCache, iotlbTag, newCacheHit } from './translation-cache';

const hit = newCacheHit();
const cache = (entries: number, ways: number, replacement: 'lru' | 'fifo' | 'random', seed = 1) =>
  new TranslationCache({ entries, ways, replacement }, new Random(seed));

describe('set-associative translation cache (IOTLB / ATC, reference §8)', () => {
  it('counts hits and misses and returns the cached frame and permissions', () => {
    const c = cache(16, 4, 'lru');
    expect(c.lookup(1, 100, hit)).toBe(false);
    c.insert(1, 100, 1, 7, 3);
    expect(c.lookup(1, 100, hit)).toBe(true);
    expect(hit).toMatchObject({ pfn: 7, perms: 3, leafLevel: 1 });
    expect([c.hits, c.misses, c.valid]).toEqual([1, 1, 1]);
  });

  it('keeps tags apart: the same page of two domains or two PASIDs are different entries', () => {
    const c = cache(16, 4, 'lru');
    c.insert(iotlbTag(1, -1), 5, 1, 50, 3);
    c.insert(iotlbTag(1, 7), 5, 1, 57, 3);
    c.insert(iotlbTag(2, -1), 5, 1, 25, 3);
    c.lookup(iotlbTag(1, 7), 5, hit);
    expect(hit.pfn).toBe(57);
    c.lookup(iotlbTag(2, -1), 5, hit);
    expect(hit.pfn).toBe(25);
    expect(c.lookup(iotlbTag(3, -1), 5, hit)).toBe(false);
  });

  it('a 2 MiB entry hits for every page inside it', () => {
    const c = cache(16, 4, 'lru');
    c.insert(1, 512 + 17, 2, 1024 + 17, 3);
    expect(c.lookup(1, 512 + 511, hit)).toBe(true);
    expect(hit).toMatchObject({ pfn: 1024 + 511, leafLevel: 2 });
    expect(c.lookup(1, 1024, hit)).toBe(false);
  });

  it('LRU evicts the least recently used way of a full set', () => {
    const c = cache(2, 2, 'lru'); // one set, two ways
    c.insert(1, 10, 1, 100, 3);
    c.insert(1, 11, 1, 110, 3);
    c.lookup(1, 10, hit); // 10 is now the most recently used
    c.insert(1, 12, 1, 120, 3);
    expect(c.lookup(1, 10, hit)).toBe(true);
    expect(c.lookup(1, 11, hit)).toBe(false);
    expect(c.evictions).toBe(1);
  });

  it('FIFO evicts the oldest insert even when it was just hit', () => {
    const c = cache(2, 2, 'fifo');
    c.insert(1, 10, 1, 100, 3);
    c.insert(1, 11, 1, 110, 3);
    c.lookup(1, 10, hit);
    c.insert(1, 12, 1, 120, 3);
    expect(c.lookup(1, 10, hit)).toBe(false);
    expect(c.lookup(1, 11, hit)).toBe(true);
  });

  it('random replacement is deterministic for a seed', () => {
    const survivors = (seed: number) => {
      const c = cache(8, 8, 'random', seed);
      for (let page = 0; page < 40; page++) c.insert(1, page, 1, page, 3);
      return Array.from({ length: 40 }, (_, page) => c.lookup(1, page, hit));
    };
    expect(survivors(3)).toEqual(survivors(3));
    expect(survivors(3).filter(Boolean)).toHaveLength(8);
  });

  it('direct-mapped sets make two pages with the same set index evict each other (conflict misses)', () => {
    const c = cache(4, 1, 'lru'); // 4 sets, 1 way: the set is the low 2 bits of the page (tag 0)
    c.insert(0, 1, 1, 1, 3);
    c.insert(0, 5, 1, 5, 3); // 5 & 3 === 1: same set
    expect(c.lookup(0, 1, hit)).toBe(false);
    c.insert(0, 2, 1, 2, 3); // another set: no conflict
    expect(c.lookup(0, 5, hit)).toBe(true);
  });

  it('invalidates by tag range and page range, exactly the overlapping entries', () => {
    const c = cache(64, 8, 'lru');
    for (let page = 0; page < 8; page++) {
      c.insert(iotlbTag(1, -1), page, 1, page, 3);
      c.insert(iotlbTag(2, -1), page, 1, page, 3);
    }
    c.insert(iotlbTag(1, -1), 512, 2, 512, 3); // a 2 MiB entry covering pages 512..1023
    const domain1 = [iotlbTag(1, -1), iotlbTag(1, -1) + 2 ** 21 - 1] as const;
    expect(c.invalidate(domain1[0], domain1[1], 2, 4)).toBe(2);
    expect(c.lookup(iotlbTag(1, -1), 2, hit)).toBe(false);
    expect(c.lookup(iotlbTag(2, -1), 2, hit)).toBe(true);
    expect(c.invalidate(domain1[0], domain1[1], 700, 701)).toBe(1);
    expect(c.invalidate(iotlbTag(2, -1), iotlbTag(2, -1))).toBe(8);
    expect(c.invalidateAll()).toBe(6); // 17 inserted, 11 dropped above
    expect(c.valid).toBe(0);
  });

  it('refuses impossible geometries with EINVAL', () => {
    expect(() => cache(10, 4, 'lru')).toThrow(
      expect.objectContaining({ code: 'EINVAL', reason: 'bad-cache-geometry' }),
    );
    expect(() => cache(128, 128, 'lru')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => cache(0, 1, 'lru')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => cache(8, 2, 'mru' as never)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});
