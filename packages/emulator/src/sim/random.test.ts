import { describe, expect, it } from 'vitest';
import { Random } from './random';

const draw = (random: Random, n = 32) => Array.from({ length: n }, () => random.int(0, 1_000_000_000));
const floats = (random: Random, n = 32) => Array.from({ length: n }, () => random.float());

describe('seeded random source: determinism', () => {
  it('gives the same sequence for the same seed (ints, floats and chance interleaved)', () => {
    const run = (seed: number) => {
      const random = new Random(seed);
      const out: number[] = [];
      for (let i = 0; i < 200; i++) {
        out.push(random.int(-50, 50), random.float(), random.chance(0.3) ? 1 : 0);
      }
      return out;
    };
    expect(run(7)).toEqual(run(7));
    expect(run(123456789)).toEqual(run(123456789));
  });

  it('two generators with the same seed are at the same state after the same draws', () => {
    const a = new Random(99);
    const b = new Random(99);
    expect(a.state()).toEqual(b.state());
    draw(a, 10);
    expect(a.state()).not.toEqual(b.state());
    draw(b, 10);
    expect(a.state()).toEqual(b.state());
    expect(a.seed).toBe(99);
  });

  it('gives different sequences for different seeds', () => {
    const sequences = new Set<string>();
    for (let seed = 0; seed < 50; seed++) sequences.add(JSON.stringify(draw(new Random(seed), 8)));
    expect(sequences.size).toBe(50);
    expect(floats(new Random(1))).not.toEqual(floats(new Random(2)));
  });

  it('keeps seeds above 2^32 distinct from their low 32 bits', () => {
    for (const seed of [
      2 ** 32,
      7 + 2 ** 32,
      7 + 5 * 2 ** 32,
      2 ** 40 + 12345,
      2 ** 52 + 1,
      Number.MAX_SAFE_INTEGER,
    ]) {
      const low = seed % 2 ** 32;
      expect(draw(new Random(seed)), `seed ${seed}`).not.toEqual(draw(new Random(low)));
    }
  });

  it('keeps seeds that differ only above bit 32 apart from each other', () => {
    const base = 424242;
    const sequences = new Set<string>();
    for (let high = 0; high < 20; high++)
      sequences.add(JSON.stringify(draw(new Random(base + high * 2 ** 32), 8)));
    expect(sequences.size).toBe(20);
  });
});

describe('seeded random source: ranges', () => {
  it('keeps int() within its inclusive bounds and reaches both ends', () => {
    const random = new Random(1);
    const seen = new Map<number, number>();
    for (let i = 0; i < 4000; i++) {
      const value = random.int(3, 7);
      seen.set(value, (seen.get(value) ?? 0) + 1);
    }
    // Only the integers 3..7 appear, each of them.
    expect([...seen.keys()].sort()).toEqual([3, 4, 5, 6, 7]);
    // Roughly uniform: each of the 5 values near 800 of 4000.
    for (const count of seen.values()) expect(count).toBeGreaterThan(600);
  });

  it('int() with equal bounds always returns that bound; negative and wide ranges stay inside', () => {
    const random = new Random(5);
    const same = new Set<number>();
    const negative = new Set<number>();
    let wideOutside = 0;
    let wideAboveHalf = 0;
    for (let i = 0; i < 1000; i++) {
      same.add(random.int(42, 42));
      negative.add(random.int(-10, -5));
      const wide = random.int(0, 2 ** 40);
      if (!Number.isInteger(wide) || wide < 0 || wide > 2 ** 40) wideOutside++;
      if (wide > 2 ** 39) wideAboveHalf++;
    }
    expect([...same]).toEqual([42]);
    expect([...negative].sort((a, b) => a - b)).toEqual([-10, -9, -8, -7, -6, -5]);
    expect(wideOutside).toBe(0);
    expect(wideAboveHalf).toBeGreaterThan(400);
  });

  it('keeps float() in [0, 1), spread over the whole interval', () => {
    const random = new Random(3);
    let below = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < 5000; i++) {
      const f = random.float();
      if (f < 0.5) below++;
      min = Math.min(min, f);
      max = Math.max(max, f);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(below).toBeGreaterThan(2200);
    expect(below).toBeLessThan(2800);
    expect(min).toBeLessThan(0.01);
    expect(max).toBeGreaterThan(0.99);
  });

  it('chance(0) is never true and chance(1) always', () => {
    const random = new Random(11);
    const zero = new Set<boolean>();
    const one = new Set<boolean>();
    for (let i = 0; i < 500; i++) {
      zero.add(random.chance(0));
      one.add(random.chance(1));
    }
    expect([...zero]).toEqual([false]);
    expect([...one]).toEqual([true]);
  });
});

describe('seeded random source: refusals', () => {
  it('refuses a non-integer or unsafe seed with EINVAL (reason bad-seed)', () => {
    for (const seed of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(() => new Random(seed)).toThrow(expect.objectContaining({ code: 'EINVAL', reason: 'bad-seed' }));
    }
  });
});
