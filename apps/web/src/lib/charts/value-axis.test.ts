import { describe, expect, it } from 'vitest';
import { formatValue, tickLabels, valueRange } from './value-axis';

describe("a series chart's value axis", () => {
  it('gives a flat or empty series 0…1, so its ticks are distinct', () => {
    expect(valueRange(0, 0)).toEqual([0, 1]);
    expect(valueRange(null, null)).toEqual([0, 1]);
  });

  it('starts at zero and leaves a little room above the highest value', () => {
    expect(valueRange(2, 10)).toEqual([0, 10.5]);
    expect(valueRange(-4, 4)).toEqual([-4, 4.4]);
  });

  it('labels ticks with the fewest decimals that keep them apart', () => {
    expect(tickLabels([0, 0.0005, 0.001])).toEqual(['0', '0.0005', '0.001']);
    expect(tickLabels([0, 0.2, 0.4, 0.6, 0.8, 1])).toEqual(['0', '0.2', '0.4', '0.6', '0.8', '1']);
    expect(tickLabels([0, 5_000, 10_000])).toEqual(['0', '5,000', '10,000']);
  });

  it('never repeats a label for distinct ticks (the flat live chart showed 0.001 twice)', () => {
    const [low, high] = valueRange(0, 0.001);
    const ticks = Array.from({ length: 6 }, (_, i) => low + ((high - low) * i) / 5);
    const labels = tickLabels(ticks);
    expect(new Set(labels).size).toBe(ticks.length);
  });

  it('shows a legend value with four significant digits, whole numbers from 1,000', () => {
    expect(formatValue(0.012345)).toBe('0.01235');
    expect(formatValue(12_345.6)).toBe('12,346');
    expect(formatValue(0)).toBe('0');
  });
});
