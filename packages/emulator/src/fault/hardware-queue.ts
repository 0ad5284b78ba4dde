/**
 * A bounded hardware queue in memory shared with the driver: VT-d's page request queue and fault
 * recording registers, SMMUv3's PRI queue and event queue. Entries wait until the driver's thread reads
 * them; a full queue refuses new entries and raises its overflow flag (VT-d PRS.PRO / FSTS.PFO, SMMUv3
 * "events lost"), which the driver clears once it has drained the queue. Occupancy is kept in the
 * system's series in simulated time, as "<iommu>/<queue name>" (metrics/sim-series.ts).
 */
import type { OccupancySeries } from '../metrics/occupancy-series';
import type { SimSeries } from '../metrics/sim-series';

export class HardwareQueue<T> {
  private readonly entries: T[] = [];
  private head = 0;
  /** Set when an entry was refused; cleared by the driver after draining (clearOverflow). */
  overflow = false;
  accepted = 0;
  refused = 0;
  readonly occupancy: OccupancySeries;

  constructor(
    readonly name: string,
    readonly depth: number,
    series: SimSeries,
    iommu: string,
  ) {
    this.occupancy = series.queue(`${iommu}/${name}`);
  }

  get length(): number {
    return this.entries.length - this.head;
  }

  /** Appends an entry; false (and the overflow flag) when the queue is full. */
  push(entry: T, nowNs: number): boolean {
    if (this.length >= this.depth) {
      this.overflow = true;
      this.refused++;
      return false;
    }
    this.entries.push(entry);
    this.accepted++;
    this.occupancy.record(nowNs, this.length);
    return true;
  }

  shift(nowNs: number): T | undefined {
    if (this.head >= this.entries.length) return undefined;
    const entry = this.entries[this.head]!;
    // The slot forgets its entry at once: a read entry (a page request and its flow) must not outlive
    // the driver's use of it until the next compaction.
    this.entries[this.head++] = undefined as T;
    // Compact now and then so the array does not grow with every entry ever queued.
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
    this.occupancy.record(nowNs, this.length);
    return entry;
  }

  clearOverflow(): void {
    this.overflow = false;
  }
}
