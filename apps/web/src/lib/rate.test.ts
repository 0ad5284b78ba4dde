import { describe, expect, it } from 'vitest';
import { RateWindow } from './rate';

describe('RateWindow', () => {
  it('counts events per second over its window', () => {
    const rate = new RateWindow(5);
    rate.add(3, 10_000);
    rate.add(2, 10_999);
    rate.add(7, 12_500);
    expect(rate.series(12_900)).toEqual({ x: [8, 9, 10, 11, 12], y: [0, 0, 5, 0, 7] });
  });

  it('forgets seconds that fell out of the window, even when their slot is reused', () => {
    const rate = new RateWindow(3);
    rate.add(4, 1_000);
    rate.add(1, 4_000); // same slot as second 1
    expect(rate.series(4_000)).toEqual({ x: [2, 3, 4], y: [0, 0, 1] });
    expect(rate.series(9_000).y).toEqual([0, 0, 0]);
  });
});
