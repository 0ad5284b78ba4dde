import { describe, expect, it } from 'vitest';
import { formatSimTime, tickStep, ticks } from './time-axis';

describe('simulated-time axis', () => {
  it('labels in ns, µs or ms by the step, with thousands separators', () => {
    expect(formatSimTime(500, 100)).toBe('500 ns');
    expect(formatSimTime(1500, 100)).toBe('1,500 ns');
    expect(formatSimTime(25_000, 5_000)).toBe('25 µs');
    expect(formatSimTime(1_234_000_000, 1_000_000)).toBe('1,234 ms');
    expect(formatSimTime(-0, 1_000)).toBe('0 µs');
  });
  it('steps by 1/2/5 × 10^k, never below 1 ns when zoomed to nanoseconds', () => {
    expect(tickStep(10, 10)).toBe(1);
    expect(tickStep(3, 10)).toBe(1);
    expect(tickStep(1_000, 10)).toBe(100);
    expect(tickStep(1_500, 10)).toBe(200);
    expect(tickStep(4_000_000, 10)).toBe(500_000);
  });
  it('covers the range with ticks on the step', () => {
    const t = ticks(150, 1_050, 10);
    expect(t[0]).toEqual({ ns: 200, label: '200 ns' });
    expect(t.at(-1)?.ns).toBe(1_000);
    expect(ticks(5, 5, 10)).toEqual([]);
  });
});
