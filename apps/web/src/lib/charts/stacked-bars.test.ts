import { describe, expect, it } from 'vitest';
import { countScale, placeSegments } from './stacked-bars';

describe('stacked bars of counts share one scale', () => {
  it('ticks are whole numbers, at most about five, and the scale reaches the largest total', () => {
    expect(countScale(4)).toEqual({ max: 4, ticks: [0, 1, 2, 3, 4] });
    expect(countScale(7)).toEqual({ max: 8, ticks: [0, 2, 4, 6, 8] });
    expect(countScale(64)).toEqual({ max: 65, ticks: [0, 13, 26, 39, 52, 65] });
  });

  it('an empty chart still has a scale to draw (0…1), not a division by zero', () => {
    expect(countScale(0)).toEqual({ max: 1, ticks: [0, 1] });
  });

  it('places a row’s segments end to end, leaving out the empty ones', () => {
    const placed = placeSegments(
      [
        { key: 'done', value: 2 },
        { key: 'running', value: 0 },
        { key: 'failed', value: 1 },
      ],
      4,
    );
    expect(placed).toEqual([
      { key: 'done', value: 2, x: 0, width: 0.5 },
      { key: 'failed', value: 1, x: 0.5, width: 0.25 },
    ]);
  });
});
