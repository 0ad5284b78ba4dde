/**
 * A level over simulated time (a hardware queue's occupancy), kept in the bins of the system's SimSeries
 * (sim-series.ts): per bin the highest level. The level holds between changes, so a bin with no change
 * still shows the level it had. Bins are preallocated typed arrays: recording allocates nothing. (Devices'
 * outstanding page requests, with a time-weighted mean as well, are kept together: outstanding-series.ts.)
 */

/** The bins a series records into (SimSeries): their width, and the bin of a time, coarsening first. */
export interface SeriesBins {
  /** Simulated time now. */
  readonly nowNs: number;
  readonly binNs: number;
  readonly capacity: number;
  /** Index of the bin holding `timeNs`, after coarsening if that time is past the last bin. */
  binAt(timeNs: number): number;
}

export class OccupancySeries {
  /** Highest level ever seen. */
  max = 0;
  /** The level now (since `changedNs`). */
  level = 0;
  /** Highest level per bin. */
  readonly maxByBin: Float64Array;
  private changedNs = 0;

  constructor(private readonly bins: SeriesBins) {
    this.maxByBin = new Float64Array(bins.capacity);
  }

  /**
   * The level is `level` from `timeNs` on. A change dated before the previous one (the driver's thread
   * reads a round of entries at future offsets) is taken at the previous one's time, so the series stays
   * in time order.
   */
  record(timeNs: number, level: number): void {
    const atNs = timeNs < this.changedNs ? this.changedNs : timeNs;
    const bin = this.bins.binAt(atNs);
    this.holdUntil(atNs);
    this.level = level;
    if (level > this.max) this.max = level;
    if (level > this.maxByBin[bin]!) this.maxByBin[bin] = level;
  }

  /** Carries the level held since the last change up to `timeNs`, bin by bin (the caller made it fit). */
  holdUntil(timeNs: number): void {
    const from = this.changedNs;
    if (timeNs <= from) return;
    this.changedNs = timeNs;
    const level = this.level;
    if (level === 0) return; // bins start at zero
    const width = this.bins.binNs;
    // The level held over [from, timeNs): a change at a bin's very start leaves that bin alone.
    const last = Math.ceil(timeNs / width) - 1;
    const { maxByBin } = this;
    for (let bin = Math.floor(from / width); bin <= last; bin++)
      if (level > maxByBin[bin]!) maxByBin[bin] = level;
  }

  /** Neighbouring bins merge pairwise (the bins' width doubles): the highest of the two. */
  mergePairs(): void {
    mergeMax(this.maxByBin);
  }

  /**
   * [timeNs, occupancy] points for a chart: the start of each bin whose highest level differs from the
   * previous bin's (a step chart of the per-bin maximum loses nothing by skipping equal bins), then the
   * level now.
   */
  points(): [number, number][] {
    const nowNs = this.bins.nowNs;
    this.bins.binAt(nowNs);
    this.holdUntil(nowNs);
    const width = this.bins.binNs;
    const last = Math.min(Math.floor(Math.max(nowNs, this.changedNs) / width), this.bins.capacity - 1);
    const points: [number, number][] = [];
    for (let bin = 0; bin <= last; bin++) {
      const value = this.maxByBin[bin]!;
      if (bin === 0 || value !== this.maxByBin[bin - 1]) points.push([bin * width, value]);
    }
    points.push([Math.max(nowNs, this.changedNs), this.level]);
    return points;
  }
}

export function mergeSum(values: Float64Array): void {
  const half = values.length >> 1;
  for (let i = 0; i < half; i++) values[i] = values[2 * i]! + values[2 * i + 1]!;
  values.fill(0, half);
}

export function mergeMax(values: Float64Array): void {
  const half = values.length >> 1;
  for (let i = 0; i < half; i++) values[i] = Math.max(values[2 * i]!, values[2 * i + 1]!);
  values.fill(0, half);
}
