/**
 * The value (y) axis of a series chart: a range that always has room (a flat or empty series gets 0…1, not
 * a sliver whose ticks collapse), and tick labels with just enough decimals that no two read the same.
 */

/** From zero (or the lowest value, if negative) to a little above the highest; 0…1 when all is flat. */
export function valueRange(min: number | null, max: number | null): [number, number] {
  const low = Math.min(0, min ?? 0);
  const high = max ?? low;
  if (!(high > low)) return [low, low + 1];
  return [low, high + (high - low) * 0.05];
}

const MAX_DECIMALS = 6;

/** Tick labels with the fewest decimals that keep them distinct (0.0005 and 0.001 are not both "0.001"). */
export function tickLabels(values: readonly number[]): string[] {
  for (let decimals = 0; ; decimals++) {
    const labels = values.map((value) =>
      value.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: decimals }),
    );
    if (decimals === MAX_DECIMALS || new Set(labels).size === new Set(values).size) return labels;
  }
}

/** One value as the legend shows it: four significant digits, whole numbers from 1,000 up. */
export function formatValue(value: number): string {
  return Math.abs(value) >= 1000
    ? value.toLocaleString('en-US', { maximumFractionDigits: 0 })
    : value.toLocaleString('en-US', { maximumSignificantDigits: 4 });
}
