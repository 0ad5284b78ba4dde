/**
 * Bin widths a person may pick for a lab's live series. A lab keeps its series in power-of-two bins from
 * time 0 (the stored width doubles as time goes on), so a power-of-two width at or above the stored one is
 * an exact merge of stored bins: two labs drawn at the same such width have the same bins, whatever their
 * spans, and their shapes can be compared bin by bin.
 */
export const BIN_WIDTHS_NS: readonly number[] = [2 ** 10, 2 ** 12, 2 ** 14, 2 ** 16, 2 ** 18, 2 ** 20];

const grouped = (value: number, digits: number) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits });

/** "16,384 ns (≈16.4 µs)": the exact width, and what it is near in the unit that reads best. */
export function binWidthLabel(ns: number): string {
  const near = ns >= 1e6 ? `${grouped(ns / 1e6, 2)} ms` : ns >= 1e3 ? `${grouped(ns / 1e3, 1)} µs` : null;
  return near ? `${grouped(ns, 0)} ns (≈${near})` : `${grouped(ns, 0)} ns`;
}
