import { describe, expect, it } from 'vitest';
import { measuredPace, speedLabel, wallTimeOf } from './clock-speed';

describe('clock speeds say what they do (speed = simulated ns per wall ns)', () => {
  it('labels each speed by the simulated time one wall second carries', () => {
    // The labels used to be 1000× off: 1e-3 was shown as "1 µs per second" but runs 1 ms per second.
    expect(speedLabel(1e-3)).toBe('1.00 ms of simulated time per second (0.001)');
    expect(speedLabel(1e-6)).toBe('1.00 µs of simulated time per second (0.000001)');
    expect(speedLabel(1e-9)).toBe('1 ns of simulated time per second (1e-9)');
    expect(speedLabel(0.1)).toBe('100 ms of simulated time per second (0.1)');
    expect(speedLabel(1)).toBe('real time: 1 s of simulated time per second');
    expect(speedLabel('max')).toMatch(/^max/);
  });

  it('gives the wall time of a simulated span at a speed', () => {
    // A handler deadline of 998 µs at 1e-6 (1 µs per second) takes 998 s ≈ 16.6 min.
    expect(wallTimeOf(998_000, 1e-6)).toBe('≈ 16.6 min');
    expect(wallTimeOf(1_000_000, 1e-3)).toBe('≈ 1.0 s');
    expect(wallTimeOf(1_000, 1e-3)).toBe('≈ 1.00 ms');
    expect(wallTimeOf(1e9, 1e-6)).toBe('≈ 11.6 days');
    expect(wallTimeOf(1e9, 'max')).toBeNull();
  });
});

describe('a running clock tells the pace it kept, in the units of its label', () => {
  it('says how much simulated time passed in how much wall time', () => {
    const since = { wallMs: 10_000, simNs: 5_000_000 };
    expect(measuredPace(since, { wallMs: 12_000, simNs: 7_000_000 })).toBe(
      '+2.00 ms simulated in 2.0 s wall: 1.00 ms of simulated time per second',
    );
    // Before a wall second the pace is noise: nothing is claimed.
    expect(measuredPace(since, { wallMs: 10_500, simNs: 5_500_000 })).toBeNull();
  });
});
