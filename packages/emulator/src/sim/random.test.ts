import { describe, expect, it } from 'vitest';
import { Random } from './random';

describe('seeded random source', () => {
  const draw = (random: Random) => Array.from({ length: 20 }, () => random.int(0, 1_000_000));

  it('gives the same sequence for the same seed', () => {
    expect(draw(new Random(7))).toEqual(draw(new Random(7)));
  });

  it('gives different sequences for different seeds, including seeds that differ above 2^32', () => {
    expect(draw(new Random(7))).not.toEqual(draw(new Random(8)));
    expect(draw(new Random(7))).not.toEqual(draw(new Random(7 + 2 ** 32)));
  });

  it('keeps int() within its inclusive bounds and float() in [0, 1)', () => {
    const random = new Random(1);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const value = random.int(3, 6);
      expect(value).toBeGreaterThanOrEqual(3);
      expect(value).toBeLessThanOrEqual(6);
      seen.add(value);
      const f = random.float();
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
    }
    expect([...seen].sort()).toEqual([3, 4, 5, 6]);
  });

  it('refuses a non-integer seed with EINVAL', () => {
    expect(() => new Random(1.5)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});
