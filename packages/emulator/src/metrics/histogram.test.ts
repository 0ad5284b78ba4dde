import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random } from '../sim/random';
import { Histogram, binLowerBound } from './histogram';

/** The lower bound of the one bin a value lands in. */
function binOf(value: number): number {
  const h = new Histogram();
  h.record(value);
  const bins = h.bins();
  expect(bins).toHaveLength(1);
  return bins[0]![0];
}

describe('log-linear latency histogram: bins', () => {
  it('is exact below 64: every value has a bin of its own', () => {
    const h = new Histogram();
    for (let v = 0; v < 64; v++) h.record(v);
    h.record(17);
    const bins = h.bins();
    expect(bins).toHaveLength(64);
    expect(bins.map(([lower]) => lower)).toEqual(Array.from({ length: 64 }, (_, v) => v));
    expect(bins[17]).toEqual([17, 2]);
    expect(bins[63]).toEqual([63, 1]);
  });

  it('puts every value from 64 up in a bin whose lower bound is within 1/32 below it (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 64, max: 2 ** 52 }), (value) => {
        const lower = binOf(value);
        return lower <= value && (value - lower) / value < 1 / 32;
      }),
      { numRuns: 3000, seed: 42 },
    );
  });

  it('keeps the 1/32 bound at the edges: powers of two, their neighbours and the 2^31 fast-path boundary', () => {
    for (let exponent = 6; exponent <= 52; exponent++) {
      for (const value of [2 ** exponent - 1, 2 ** exponent, 2 ** exponent + 1]) {
        if (value < 64) continue;
        const lower = binOf(value);
        expect(lower, `value ${value}`).toBeLessThanOrEqual(value);
        expect((value - lower) / value, `value ${value}`).toBeLessThan(1 / 32);
      }
      // A power of two is the lower bound of its own bin.
      expect(binOf(2 ** exponent)).toBe(2 ** exponent);
    }
  });

  it('bins are monotonic: a larger value never lands in a lower bin', () => {
    const random = new Random(8);
    const values = Array.from({ length: 3000 }, () => random.int(0, 2 ** 40)).sort((a, b) => a - b);
    const lowers = values.map(binOf);
    const decreases = lowers.filter((lower, i) => i > 0 && lower < lowers[i - 1]!);
    expect(decreases).toEqual([]);
    expect(new Set(lowers).size).toBeGreaterThan(100);
  });

  it('shares bin edges between histograms, so bins of two runs line up', () => {
    expect(binOf(1000)).toBe(binOf(1001));
    expect(binOf(64)).toBe(64);
    expect(binOf(65)).toBe(64);
    expect(binOf(66)).toBe(66);
    expect(binOf(127)).toBe(126);
    expect(binOf(128)).toBe(128);
    expect(binOf(131)).toBe(128);
    expect(binOf(132)).toBe(132);
    expect(binLowerBound(64)).toBe(64);
    expect(binLowerBound(96)).toBe(128);
  });

  it('rounds fractional values and counts negative ones as 0', () => {
    const h = new Histogram();
    h.record(2.4);
    h.record(2.6);
    h.record(-5);
    expect(h.bins()).toEqual([
      [0, 1],
      [2, 1],
      [3, 1],
    ]);
    expect(h.min).toBe(0);
    expect(h.max).toBe(3);
  });
});

describe('log-linear latency histogram: summaries', () => {
  it('gives the exact count, min, max and mean', () => {
    const h = new Histogram();
    for (const v of [70, 3, 1_000_000, 12, 5000]) h.record(v);
    const s = h.summary();
    expect(s.count).toBe(5);
    expect(s.min).toBe(3);
    expect(s.max).toBe(1_000_000);
    expect(s.mean).toBe((70 + 3 + 1_000_000 + 12 + 5000) / 5);
  });

  it('gives p50 / p90 / p99 of 1..1000 within the bin error, never above the true value', () => {
    const h = new Histogram();
    for (let v = 1; v <= 1000; v++) h.record(v);
    const s = h.summary();
    expect(s.count).toBe(1000);
    expect([s.min, s.max, s.mean]).toEqual([1, 1000, 500.5]);
    for (const [got, want] of [
      [s.p50, 500],
      [s.p90, 900],
      [s.p99, 990],
    ] as const) {
      expect(got).toBeLessThanOrEqual(want);
      expect((want - got) / want).toBeLessThan(1 / 32);
    }
  });

  it('gives any quantile of 1..1000 within the bin error, and exact quantiles below 64', () => {
    const h = new Histogram();
    for (let v = 1; v <= 1000; v++) h.record(v);
    for (let want = 1; want <= 1000; want++) {
      const got = h.quantile(want / 1000);
      expect(got).toBeLessThanOrEqual(want);
      expect((want - got) / want).toBeLessThan(1 / 32);
      if (want < 64) expect(got).toBe(want);
    }
  });

  it('clamps quantiles to [min, max]: q = 0 is the minimum, and a single value is every quantile', () => {
    const h = new Histogram();
    for (const v of [1000, 1010, 1020]) h.record(v);
    expect(h.quantile(0)).toBe(1000);
    const single = new Histogram();
    single.record(123_457);
    for (const q of [0, 0.5, 0.99, 1]) expect(single.quantile(q)).toBe(123_457);
  });

  it('quantiles of a skewed distribution land in the right mode', () => {
    const h = new Histogram();
    for (let i = 0; i < 980; i++) h.record(500 + (i % 10)); // fast path: 500..509 ns
    for (let i = 0; i < 20; i++) h.record(60_000 + i * 100); // slow faults: 60 µs..62 µs
    const s = h.summary();
    expect(s.p50).toBeGreaterThanOrEqual(500 - 500 / 32);
    expect(s.p50).toBeLessThanOrEqual(509);
    expect(s.p90).toBeLessThanOrEqual(509);
    expect(s.p99).toBeGreaterThanOrEqual(60_000 - 60_000 / 32);
    expect(s.p99).toBeLessThanOrEqual(61_900);
    expect(s.max).toBe(61_900);
  });

  it('bins() lists non-empty bins in increasing order whose counts sum to the count', () => {
    const h = new Histogram();
    const random = new Random(21);
    for (let i = 0; i < 5000; i++) h.record(random.int(0, 2 ** random.int(0, 40)));
    const bins = h.bins();
    expect(bins.reduce((sum, [, count]) => sum + count, 0)).toBe(5000);
    expect(h.count).toBe(5000);
    for (let i = 1; i < bins.length; i++) expect(bins[i]![0]).toBeGreaterThan(bins[i - 1]![0]);
    for (const [, count] of bins) expect(count).toBeGreaterThan(0);
    expect(bins[0]![0]).toBeLessThanOrEqual(h.min);
    expect(bins.at(-1)![0]).toBeLessThanOrEqual(h.max);
  });

  it('summarises an empty histogram as zeros', () => {
    const h = new Histogram();
    expect(h.summary()).toEqual({ count: 0, min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0 });
    expect(h.bins()).toEqual([]);
    expect(h.quantile(0.5)).toBe(0);
  });
});

describe('log-linear latency histogram: only the span of bins used is stored', () => {
  /** Bins and quantiles from the values themselves: each value's bin counted, ranks walked in bin order. */
  function reference(values: number[]) {
    const counts = new Map<number, number>();
    for (const value of values) counts.set(binOf(value), (counts.get(binOf(value)) ?? 0) + 1);
    const bins = [...counts].sort(([a], [b]) => a - b);
    const [min, max] = [Math.min(...values), Math.max(...values)].map((v) => Math.round(Math.max(0, v)));
    const quantile = (q: number) => {
      const rank = Math.max(1, Math.ceil(q * values.length));
      let seen = 0;
      for (const [lower, count] of bins)
        if ((seen += count) >= rank) return Math.min(max!, Math.max(min!, lower));
      return max!;
    };
    return { bins, quantiles: [0, 0.5, 0.9, 0.99, 1].map(quantile) };
  }

  it('gives the bins and quantiles of the full fixed bins, whatever order the span grows in (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.nat(100), fc.nat(5000), fc.nat(2 ** 40), fc.constant(2 ** 53 - 1)), {
          minLength: 1,
          maxLength: 60,
        }),
        (values) => {
          const h = new Histogram();
          for (const value of values) h.record(value);
          const expected = reference(values);
          expect(h.bins()).toEqual(expected.bins);
          expect([0, 0.5, 0.9, 0.99, 1].map((q) => h.quantile(q))).toEqual(expected.quantiles);
        },
      ),
      { seed: 13, numRuns: 300 },
    );
  });

  it('values near one another are counted in a span of a few cache lines, grown in place of the old one', () => {
    const h = new Histogram();
    for (let ns = 2000; ns < 4000; ns += 7) h.record(ns);
    const stored = (h as unknown as { counts: Float64Array }).counts;
    // 2000..4000 ns spans 33 bins (one power of two): five lines of 8 bins, rounded up to the doubling.
    expect(stored.length).toBeLessThanOrEqual(64);
    expect(h.bins().reduce((sum, [, count]) => sum + count, 0)).toBe(h.count);
    h.record(0);
    h.record(2 ** 53 - 1);
    expect((h as unknown as { counts: Float64Array }).counts.length).toBe(1568);
    expect(h.bins()[0]).toEqual([0, 1]);
  });
});
