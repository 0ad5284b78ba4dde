/**
 * Property: a translation cache uses its sets as evenly across tags as a random index would (issue 13;
 * src/cache/README.md). Page p of many domains, or of many PASIDs, must not pile into one set: the domain
 * and the PASID reach the set index.
 *
 * Measured through behaviour, not internals: every (tag, page) pair is inserted once into a cache of S sets
 * × W ways, so its evictions are exactly the overflow Σ max(0, load − W) over the sets. The yardstick is the
 * same traffic under a random index: each tag's consecutive pages start at a random set (a seeded draw, 16
 * times). The cache's overflow must stay within that mean + 6 standard deviations, plus W and one tag's
 * pages (one collision more than 16 draws may show: a rare tail, not a pattern). The old index,
 * (page ^ tag) & mask, put page p of every domain in one set and overflowed by nearly every pair.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TranslationCache, atcTag, iotlbTag } from '../cache/translation-cache';
import { Random } from '../sim/random';

/** Traffic: for each tag, `pagesPerTag` consecutive pages from a base shared by all tags or drawn per tag. */
interface Traffic {
  tags: number[];
  pagesPerTag: number;
  sharedBase: boolean;
  seed: number;
}

function basesOf(traffic: Traffic): number[] {
  const random = new Random(traffic.seed);
  return traffic.tags.map(() => (traffic.sharedBase ? 0x100 : random.int(0, 2 ** 30)));
}

function cacheOverflow(traffic: Traffic, sets: number, ways: number): number {
  const cache = new TranslationCache({ entries: sets * ways, ways, replacement: 'lru' }, new Random(1));
  const bases = basesOf(traffic);
  traffic.tags.forEach((tag, i) => {
    for (let page = bases[i]!; page < bases[i]! + traffic.pagesPerTag; page++)
      cache.insert(tag, page, 1, 0, 3);
  });
  return cache.evictions;
}

/** Mean and standard deviation of the overflow when each tag's pages start at a random set. */
function randomIndexOverflow(traffic: Traffic, sets: number, ways: number): { mean: number; sd: number } {
  const bases = basesOf(traffic);
  const random = new Random(traffic.seed ^ 0x5bd1e995);
  const load = new Uint32Array(sets);
  const overflows: number[] = [];
  for (let draw = 0; draw < 16; draw++) {
    load.fill(0);
    for (const base of bases) {
      const first = (base + random.int(0, sets - 1)) % sets;
      for (let page = 0; page < traffic.pagesPerTag; page++) load[(first + page) % sets]!++;
    }
    overflows.push(load.reduce((sum, count) => sum + Math.max(0, count - ways), 0));
  }
  const mean = overflows.reduce((sum, x) => sum + x, 0) / overflows.length;
  const variance = overflows.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (overflows.length - 1);
  return { mean, sd: Math.sqrt(variance) };
}

const geometry = fc.record({
  ways: fc.constantFrom(1, 2, 4, 8, 16),
  // Powers of two (the usual case, a mask) and other counts (a modulo).
  sets: fc.oneof(
    fc.integer({ min: 6, max: 12 }).map((bits) => 2 ** bits),
    fc.integer({ min: 40, max: 3000 }),
  ),
  // Pairs per entry of the cache: from a quarter full to full.
  fill: fc.double({ min: 0.25, max: 1, noNaN: true }),
});

/** Checks the bound over generated geometries, tag counts and page layouts, the tags built by `tagsOf`. */
function checkEven<T>(shape: fc.Arbitrary<T>, tagsOf: (count: number, shape: T) => number[]) {
  fc.assert(
    fc.property(
      geometry,
      shape,
      fc.integer({ min: 16, max: 2000 }),
      fc.boolean(),
      fc.integer({ min: 1, max: 2 ** 30 }),
      ({ ways, sets, fill }, tagShape, count, sharedBase, seed) => {
        const tags = tagsOf(count, tagShape);
        const pagesPerTag = Math.max(1, Math.round((fill * sets * ways) / tags.length));
        const traffic = { tags, pagesPerTag, sharedBase, seed };
        const { mean, sd } = randomIndexOverflow(traffic, sets, ways);
        expect(
          cacheOverflow(traffic, sets, ways),
          `${tags.length} tags × ${pagesPerTag} pages (${sharedBase ? 'shared' : 'own'} base) in ${sets}×${ways}`,
        ).toBeLessThanOrEqual(mean + 6 * sd + ways + pagesPerTag);
      },
    ),
    // A fixed seed: the bound is statistical (16 draws' spread), so a run drawn afresh each time would
    // fail now and then on a rare tail (once seen: 59 against 56.9), not on a pattern of the index.
    { numRuns: 60, seed: 0x13 },
  );
}

/** A domain tag sequence: consecutive, or interleaved as when several IOMMUs draw from one counter. */
const domainSequence = fc.record({
  first: fc.integer({ min: 0, max: 65_535 }),
  stride: fc.integer({ min: 1, max: 8 }),
});

describe('property: the sets of a translation cache are used as evenly as a random index would use them', () => {
  it('many domains without PASID, consecutive or interleaved tags', () => {
    checkEven(domainSequence, (count, { first, stride }) =>
      Array.from({ length: count }, (_, i) => iotlbTag(first + i * stride, -1)),
    );
  });

  it('PASID traffic: many PASIDs of one domain', () => {
    checkEven(domainSequence, (count, { first }) =>
      Array.from({ length: count }, (_, i) => iotlbTag(first, i)),
    );
  });

  it('PASID traffic: SVA binds, each a domain of its own with the next PASID (domain d, PASID d + c)', () => {
    checkEven(domainSequence, (count, { first, stride }) =>
      Array.from({ length: count }, (_, i) => iotlbTag(first + i * stride, 1 + i)),
    );
  });

  it('PASID traffic: a grid of domains × PASIDs (a few processes bound on each of many devices)', () => {
    checkEven(domainSequence, (count, { first }) => {
      const side = Math.ceil(Math.sqrt(count));
      return Array.from({ length: side * side }, (_, i) => iotlbTag(first + Math.floor(i / side), i % side));
    });
  });

  it('PASID traffic in an ATC: one device, many PASIDs', () => {
    checkEven(fc.integer({ min: 0, max: 2 ** 19 }), (count, first) =>
      Array.from({ length: count }, (_, i) => atcTag(first + i)),
    );
  });

  it('the yardstick can fail: the same pages at one offset for every tag overflow far past it', () => {
    // What the old index did with page p of 1 000 domains: every tag's pages start at the same set.
    const traffic = {
      tags: Array.from({ length: 1000 }, (_, d) => d),
      pagesPerTag: 64,
      sharedBase: true,
      seed: 3,
    };
    const load = new Uint32Array(8192);
    for (let d = 0; d < 1000; d++) for (let page = 0; page < 64; page++) load[0x100 + page]!++;
    const sameOffsetOverflow = load.reduce((sum, count) => sum + Math.max(0, count - 8), 0);
    const { mean, sd } = randomIndexOverflow(traffic, 8192, 8);
    expect(sameOffsetOverflow).toBe(64 * (1000 - 8));
    expect(sameOffsetOverflow).toBeGreaterThan(5 * (mean + 6 * sd + 8 + 64));
  });
});
