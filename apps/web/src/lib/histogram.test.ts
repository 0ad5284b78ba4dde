import { describe, expect, it } from 'vitest';
import { LiveHistogram, binLowerBound, formatNs, normalise, overlay, quantile } from './histogram';

describe('binLowerBound', () => {
  it('gives small values their own integer bins', () => {
    expect(binLowerBound(0)).toBe(0);
    expect(binLowerBound(5.7)).toBe(5);
  });

  it('splits each power of two into 8 equal bins', () => {
    expect(binLowerBound(8)).toBe(8);
    expect(binLowerBound(1023)).toBe(960);
    expect(binLowerBound(1024)).toBe(1024);
    expect(binLowerBound(1100)).toBe(1024);
    expect(binLowerBound(1152)).toBe(1152);
    // Every value lies within 12.5 % above its bound.
    for (const value of [9, 100, 6000, 8381, 1e6 + 3, 1e9]) {
      const bound = binLowerBound(value)!;
      expect(bound).toBeLessThanOrEqual(value);
      expect(value / bound).toBeLessThan(1.125 + 1e-9);
    }
  });

  it('has no bin for negative or non-finite values', () => {
    expect(binLowerBound(-1)).toBeNull();
    expect(binLowerBound(Number.NaN)).toBeNull();
    expect(binLowerBound(Number.POSITIVE_INFINITY)).toBeNull();
  });
});

describe('LiveHistogram', () => {
  it('counts values into sorted sparse bins', () => {
    const histogram = new LiveHistogram();
    for (const value of [6000, 6001, 4000, -5, 8381]) histogram.add(value);
    expect(histogram.bins()).toEqual([
      [3840, 1],
      [5632, 2],
      [8192, 1],
    ]);
    expect(histogram.total).toBe(4);
  });
});

describe('overlay', () => {
  it('puts histograms with different bins on their union, zeros where a run had none', () => {
    const result = overlay([
      [
        [1024, 34],
        [7040, 394],
      ],
      [
        [7040, 390],
        [9472, 666],
      ],
      null,
    ]);
    expect(result.bins).toEqual([1024, 7040, 9472]);
    expect(result.counts).toEqual([
      [34, 394, 0],
      [0, 390, 666],
      [0, 0, 0],
    ]);
  });

  it('adds duplicate bins of one histogram together', () => {
    expect(
      overlay([
        [
          [5, 1],
          [5, 2],
        ],
      ]).counts,
    ).toEqual([[3]]);
  });
});

describe('normalise and quantile', () => {
  it('turns counts into shares', () => {
    expect(normalise([1, 3, 0])).toEqual([0.25, 0.75, 0]);
    expect(normalise([0, 0])).toEqual([0, 0]);
  });

  it('finds the bin of a quantile', () => {
    const bins = [10, 20, 30, 40];
    const counts = [50, 40, 9, 1];
    expect(quantile(bins, counts, 0.5)).toBe(10);
    expect(quantile(bins, counts, 0.9)).toBe(20);
    expect(quantile(bins, counts, 0.99)).toBe(30);
    expect(quantile(bins, counts, 1)).toBe(40);
    expect(quantile(bins, [0, 0, 0, 0], 0.5)).toBeNull();
  });
});

describe('formatNs', () => {
  it('picks a unit', () => {
    expect(formatNs(950)).toBe('950 ns');
    expect(formatNs(12_345)).toBe('12.3 µs');
    expect(formatNs(4_000_000)).toBe('4.00 ms');
    expect(formatNs(1.2e9)).toBe('1.20 s');
    expect(formatNs(999_960_000)).toBe('1000 ms');
    expect(formatNs(-2500)).toBe('-2.50 µs');
  });
});
