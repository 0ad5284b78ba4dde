/**
 * Latency histograms: live ones built in the browser from the stream, and the runs' saved ones
 * ([lowerBound, count] bins) laid over each other for comparison.
 */

/** Sub-bins per power of two: 8 gives bins at most 12.5 % wide, enough to tell latencies apart. */
const SUB_BINS_LOG2 = 3;

/**
 * The lower bound of the bin a value falls in: log-linear bins (each power of two split in 8 equal
 * parts), exact integers for values under 8. Negative and non-finite values have no bin.
 */
export function binLowerBound(value: number): number | null {
  if (!Number.isFinite(value) || value < 0) return null;
  if (value < 1 << SUB_BINS_LOG2) return Math.floor(value);
  const exponent = Math.floor(Math.log2(value));
  const step = 2 ** (exponent - SUB_BINS_LOG2);
  return Math.floor(value / step) * step;
}

/** A histogram that grows as values arrive. */
export class LiveHistogram {
  private readonly counts = new Map<number, number>();
  total = 0;

  add(value: number): void {
    const bin = binLowerBound(value);
    if (bin === null) return;
    this.counts.set(bin, (this.counts.get(bin) ?? 0) + 1);
    this.total += 1;
  }

  /** Non-empty bins as [lowerBound, count], lowest first (the runs' saved histograms have this shape). */
  bins(): [number, number][] {
    return [...this.counts.entries()].sort((a, b) => a[0] - b[0]);
  }

  clear(): void {
    this.counts.clear();
    this.total = 0;
  }
}

export interface Overlay {
  /** The union of every histogram's bins, ascending. */
  bins: number[];
  /** One row per histogram: its count in each shared bin (0 where it had none). */
  counts: number[][];
}

/**
 * Several sparse histograms on shared bins, so they can be drawn over each other. A missing histogram
 * (a run without it) becomes a row of zeros.
 */
export function overlay(
  histograms: readonly (readonly (readonly [number, number])[] | null | undefined)[],
): Overlay {
  const bins = [...new Set(histograms.flatMap((h) => (h ?? []).map(([bound]) => bound)))].sort(
    (a, b) => a - b,
  );
  const position = new Map(bins.map((bin, index) => [bin, index]));
  const counts = histograms.map((h) => {
    const row = new Array<number>(bins.length).fill(0);
    for (const [bound, count] of h ?? []) row[position.get(bound)!]! += count;
    return row;
  });
  return { bins, counts };
}

/** Counts as shares of their total (runs of different lengths compare by shape); all zeros stay zeros. */
export function normalise(counts: readonly number[]): number[] {
  const total = counts.reduce((sum, count) => sum + count, 0);
  return counts.map((count) => (total === 0 ? 0 : count / total));
}

/** The lower bound of the bin holding quantile q (0..1), or null for an empty histogram. */
export function quantile(bins: readonly number[], counts: readonly number[], q: number): number | null {
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * total));
  let seen = 0;
  for (let i = 0; i < bins.length; i++) {
    seen += counts[i] ?? 0;
    if (seen >= rank) return bins[i]!;
  }
  return bins[bins.length - 1] ?? null;
}

/** A duration in ns, short: 950 ns, 12.3 µs, 4.00 ms, 1.20 s. */
export function formatNs(ns: number): string {
  const abs = Math.abs(ns);
  if (abs < 1e3) return `${Math.round(ns)} ns`;
  if (abs < 1e6) return `${threeDigits(ns / 1e3)} µs`;
  if (abs < 1e9) return `${threeDigits(ns / 1e6)} ms`;
  return `${threeDigits(ns / 1e9)} s`;
}

/** About three significant digits, never in exponent notation (999.96 → "1000", not "1.00e+3"). */
function threeDigits(value: number): string {
  const abs = Math.abs(value);
  return value.toFixed(abs >= 100 ? 0 : abs >= 10 ? 1 : 2);
}
