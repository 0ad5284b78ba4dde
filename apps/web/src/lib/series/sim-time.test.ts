import { describe, expect, it } from 'vitest';
import type { SeriesAnswerView } from '@iommu-lab/wire';
import { formatSimTime, ratePerMicrosecond, simTimeUnit } from './sim-time';

describe('simulated time on an axis', () => {
  it('picks ns, µs or ms by the span shown', () => {
    expect(simTimeUnit(5_000)).toBe('ns');
    expect(simTimeUnit(2_000_000)).toBe('µs');
    expect(simTimeUnit(50_000_000)).toBe('ms');
  });

  it('labels values with their unit and thousands separators', () => {
    expect(formatSimTime(1_250_000, 'µs')).toBe('1,250 µs');
    expect(formatSimTime(1_234, 'ns')).toBe('1,234 ns');
    expect(formatSimTime(12_500_000, 'ms')).toBe('12.5 ms');
  });

  it('places each bin at its start in simulated ns and gives counts per µs, whatever the bin width', () => {
    const answer = { startNs: 0, binNs: 2_000 } as SeriesAnswerView;
    expect(ratePerMicrosecond(answer, [4, 0, 2])).toEqual({ x: [0, 2_000, 4_000], y: [2, 0, 1] });
  });
});
