import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Histogram, binLowerBound } from './histogram';

describe('log-linear latency histogram', () => {
  it('is exact below 64', () => {
    const h = new Histogram();
    for (const v of [0, 1, 17, 63]) h.record(v);
    expect(h.bins()).toEqual([
      [0, 1],
      [1, 1],
      [17, 1],
      [63, 1],
    ]);
  });

  it('puts every value in a bin whose lower bound is within 1/32 below it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 64, max: 2 ** 50 }), (value) => {
        const h = new Histogram();
        h.record(value);
        const [[lower]] = h.bins() as [[number, number]];
        expect(lower).toBeLessThanOrEqual(value);
        expect((value - lower) / value).toBeLessThan(1 / 32);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives p50 / p90 / p99 / max of 1..1000 within the bin error, and the exact min, max and mean', () => {
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
      expect(want - got).toBeLessThan(want / 32 + 1);
    }
  });

  it('shares bin edges between histograms, so bins of two runs line up', () => {
    const a = new Histogram();
    const b = new Histogram();
    a.record(1000);
    b.record(1001);
    expect(a.bins()[0]![0]).toBe(b.bins()[0]![0]);
    expect(binLowerBound(64)).toBe(64);
    expect(binLowerBound(96)).toBe(128);
  });

  it('summarises an empty histogram as zeros', () => {
    expect(new Histogram().summary()).toEqual({ count: 0, min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0 });
  });
});
