/**
 * Occupancy of a queue over simulated time, kept small: points are (time, highest occupancy since the
 * previous point). When the series reaches its limit, neighbouring points merge pairwise (keeping the
 * higher occupancy), so a long run still fits in a fixed number of points for a chart.
 */
const LIMIT = 1024;

export class OccupancySeries {
  private readonly times: number[] = [];
  private readonly values: number[] = [];
  /** Highest occupancy ever seen. */
  max = 0;
  /** Points closer than this are merged; doubles each time the series is halved. */
  private resolutionNs = 1;

  record(timeNs: number, occupancy: number): void {
    if (occupancy > this.max) this.max = occupancy;
    const last = this.times.length - 1;
    if (last >= 0 && timeNs - this.times[last]! < this.resolutionNs) {
      if (occupancy > this.values[last]!) this.values[last] = occupancy;
      return;
    }
    this.times.push(timeNs);
    this.values.push(occupancy);
    if (this.times.length >= LIMIT) this.halve();
  }

  /** [timeNs, occupancy] pairs in time order. */
  points(): [number, number][] {
    return this.times.map((time, i) => [time, this.values[i]!]);
  }

  private halve(): void {
    const { times, values } = this;
    let kept = 0;
    for (let i = 0; i < times.length; i += 2, kept++) {
      times[kept] = times[i]!;
      values[kept] = Math.max(values[i]!, values[i + 1] ?? 0);
    }
    times.length = kept;
    values.length = kept;
    this.resolutionNs = Math.max(1, (this.times.at(-1)! - this.times[0]!) / (LIMIT / 2));
  }
}
