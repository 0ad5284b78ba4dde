/**
 * A log-linear histogram of non-negative integers (latencies in ns): exact below 64, then 32 bins per
 * power of two (relative error under 3.2 %). The bins are fixed, so histograms from different runs share
 * bin edges and can be compared or merged bin by bin. Recording allocates nothing.
 */
const LINEAR_LIMIT = 64;
const SUB_BINS = 32;
const SUB_BITS = 5;
/** Values up to 2^53 fit: 64 linear bins + 32 bins for each power of two from 2^6 to 2^52. */
const BIN_COUNT = LINEAR_LIMIT + (53 - 6) * SUB_BINS;

function binOf(value: number): number {
  if (value < LINEAR_LIMIT) return value;
  if (value < 2 ** 31) {
    // Integer fast path: the exponent from clz32 and the sub-bin from a shift.
    const exponent = 31 - Math.clz32(value);
    return LINEAR_LIMIT + (exponent - 6) * SUB_BINS + ((value >>> (exponent - SUB_BITS)) - SUB_BINS);
  }
  let exponent = Math.floor(Math.log2(value));
  if (2 ** exponent > value) exponent--;
  const sub = Math.floor(value / 2 ** (exponent - SUB_BITS)) - SUB_BINS;
  return LINEAR_LIMIT + (exponent - 6) * SUB_BINS + sub;
}

/** Lowest value that lands in `bin`. */
export function binLowerBound(bin: number): number {
  if (bin < LINEAR_LIMIT) return bin;
  const exponent = Math.floor((bin - LINEAR_LIMIT) / SUB_BINS) + 6;
  const sub = (bin - LINEAR_LIMIT) % SUB_BINS;
  return (SUB_BINS + sub) * 2 ** (exponent - SUB_BITS);
}

export interface HistogramSummary {
  count: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
}

export class Histogram {
  private readonly counts = new Float64Array(BIN_COUNT);
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;

  record(value: number): void {
    const v = value < 0 ? 0 : Math.round(value);
    this.counts[binOf(v)]!++;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** The value at quantile q in [0, 1]: the lower bound of the bin holding it, clamped to [min, max]. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let bin = 0; bin < BIN_COUNT; bin++) {
      seen += this.counts[bin]!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, binLowerBound(bin)));
    }
    return this.max;
  }

  summary(): HistogramSummary {
    return {
      count: this.count,
      min: this.count === 0 ? 0 : this.min,
      max: this.max,
      mean: this.count === 0 ? 0 : this.sum / this.count,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
    };
  }

  /** Non-empty bins as [lower bound, count] pairs, for charts and for storing a run. */
  bins(): [number, number][] {
    const out: [number, number][] = [];
    for (let bin = 0; bin < BIN_COUNT; bin++)
      if (this.counts[bin]! > 0) out.push([binLowerBound(bin), this.counts[bin]!]);
    return out;
  }
}
