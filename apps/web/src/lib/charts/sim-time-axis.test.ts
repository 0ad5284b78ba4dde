import { describe, expect, it } from 'vitest';
import { simTimeLabels, simTimeSplits } from './sim-time-axis';

describe("a series chart's simulated-time axis", () => {
  it('puts as many 1/2/5 ticks as the width holds', () => {
    // 700 px hold 10 labels: 2 ms over 10 ticks is a 200 µs step.
    expect(simTimeSplits(0, 2_000_000, 700)).toEqual(Array.from({ length: 11 }, (_, i) => i * 200_000));
  });

  it('labels ticks in the unit of their step: ms, µs or ns', () => {
    expect(simTimeLabels([0, 5_000_000, 10_000_000], 10_000_000)).toEqual(['0 ms', '5 ms', '10 ms']);
    expect(simTimeLabels([0, 200_000, 400_000], 400_000)).toEqual(['0 µs', '200 µs', '400 µs']);
    expect(simTimeLabels([1_000_100, 1_000_200], 200)).toEqual(['1,000,100 ns', '1,000,200 ns']);
  });

  it('a zoomed-in axis switches to the finer unit', () => {
    const splits = simTimeSplits(1_000_000, 1_000_500, 600);
    const labels = simTimeLabels(splits, 500);
    expect(labels.every((label) => label.endsWith(' ns'))).toBe(true);
    expect(new Set(labels).size).toBe(labels.length);
  });

  it('has no tick over an empty span', () => {
    expect(simTimeSplits(500, 500, 600)).toEqual([]);
  });
});
