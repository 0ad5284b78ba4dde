import { describe, expect, it } from 'vitest';
import { heightForYLabel, yAxisWidth } from './axis-room';

describe('room for axes', () => {
  it('the y axis is as wide as its widest tick label, plus the ticks and their gap', () => {
    expect(yAxisWidth(40)).toBe(57);
    expect(yAxisWidth(12.3)).toBe(30);
  });

  it('a chart grows until the rotated y label fits along the plot', () => {
    // "per µs of simulated time" is about 150 px in bold 12 px: a 180 px chart with an 80 px x axis cut it.
    expect(heightForYLabel(150, 80, 180)).toBe(246);
    expect(heightForYLabel(60, 80, 180)).toBe(180);
  });
});
