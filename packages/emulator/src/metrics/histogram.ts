/**
 * A log-linear histogram of non-negative integers (latencies in ns): exact below 64, then 32 bins per
 * power of two (relative error under 3.2 %). The bins are fixed, so histograms from different runs share
 * bin edges and can be compared or merged bin by bin. Only the span of bins that values fell in is stored
 * (a latency's values span a few dozen of the 1,568 bins): a thousand devices' histograms then take about
 * a megabyte instead of fifty, and recording into them touches memory that stays in the CPU caches.
 * Recording allocates only when a value falls outside that span, which then at least doubles.
 */
const LINEAR_LIMIT = 64;
const SUB_BINS = 32;
const SUB_BITS = 5;
/** Values up to 2^53 fit: 64 linear bins + 32 bins for each power of two from 2^6 to 2^52. */
const BIN_COUNT = LINEAR_LIMIT + (53 - 6) * SUB_BINS;
/** The stored span's smallest length and alignment, in bins (one 64-byte cache line). */
const SPAN_STEP = 8;
const NO_BINS = new Float64Array(0);

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
  /** Counts of bins [firstBin, firstBin + counts.length); every bin outside holds 0. */
  private counts = NO_BINS;
  private firstBin = 0;
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;

  record(value: number): void {
    const v = value < 0 ? 0 : Math.round(value);
    const bin = binOf(v);
    const counts = this.counts;
    const at = bin - this.firstBin;
    // One unsigned comparison: a bin below the span wraps to a large index.
    if (at >>> 0 < counts.length) counts[at]!++;
    else this.widen(bin)[bin - this.firstBin]!++;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** The stored span grown to hold `bin`: at least twice as long, in whole cache lines of bins. */
  private widen(bin: number): Float64Array {
    const old = this.counts;
    const empty = old.length === 0;
    const lo = Math.floor(Math.min(bin, empty ? bin : this.firstBin) / SPAN_STEP) * SPAN_STEP;
    const hi = Math.ceil(Math.max(bin + 1, this.firstBin + old.length) / SPAN_STEP) * SPAN_STEP;
    const length = Math.min(BIN_COUNT, Math.max(hi - lo, 2 * old.length));
    // The room to spare goes on the side the new bin is on.
    const first = Math.max(0, Math.min(bin < this.firstBin ? hi - length : lo, BIN_COUNT - length));
    const counts = new Float64Array(length);
    if (!empty) counts.set(old, this.firstBin - first);
    this.counts = counts;
    this.firstBin = first;
    return counts;
  }

  /** The value at quantile q in [0, 1]: the lower bound of the bin holding it, clamped to [min, max]. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let at = 0; at < this.counts.length; at++) {
      seen += this.counts[at]!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, binLowerBound(this.firstBin + at)));
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
    for (let at = 0; at < this.counts.length; at++)
      if (this.counts[at]! > 0) out.push([binLowerBound(this.firstBin + at), this.counts[at]!]);
    return out;
  }
}
