/**
 * Page requests outstanding at each device over simulated time, in the bins of the system's SimSeries
 * (sim-series.ts): per device and bin the highest level and the time-weighted integral (level × ns), as
 * OccupancySeries keeps for one queue. Devices are columns, numbered on first use, in blocks of 16 laid
 * out bin-major (`bin · width + column`): the changes of many devices near the same time land in the same
 * few kilobytes instead of one pair of arrays per device scattered over the heap (a thousand devices'
 * bins are 16 MB in all, so which part of them a change touches decides whether it misses the CPU caches).
 * Blocks stay small (128 KiB a table) so that merging bins when the width doubles runs in cache as well.
 */
import type { SeriesBins } from './occupancy-series';

/** Columns in a full block: a row of a block is two cache lines. */
const BLOCK_SHIFT = 4;
const BLOCK_COLUMNS = 1 << BLOCK_SHIFT;

/** Up to 16 devices' bins and levels. */
class DeviceBlock {
  readonly maxByBin: Float64Array;
  readonly integralByBin: Float64Array;
  /** Per column: the level now, held since `changedNs`. */
  readonly levels: Float64Array;
  readonly changedNs: Float64Array;

  constructor(
    capacity: number,
    /** Columns per row: the first block starts at 1 and doubles, so that a few devices take little room. */
    readonly width: number,
    narrower?: DeviceBlock,
  ) {
    this.maxByBin = new Float64Array(capacity * width);
    this.integralByBin = new Float64Array(capacity * width);
    this.levels = new Float64Array(width);
    this.changedNs = new Float64Array(width);
    if (narrower === undefined) return;
    this.levels.set(narrower.levels);
    this.changedNs.set(narrower.changedNs);
    for (let bin = 0; bin < capacity; bin++)
      for (let column = 0; column < narrower.width; column++) {
        this.maxByBin[bin * width + column] = narrower.maxByBin[bin * narrower.width + column]!;
        this.integralByBin[bin * width + column] = narrower.integralByBin[bin * narrower.width + column]!;
      }
  }
}

export class OutstandingSeries {
  /** Device ids by column, in the order they were first recorded. */
  readonly devices: string[] = [];
  private readonly columns = new Map<string, number>();
  private readonly blocks: DeviceBlock[];

  constructor(private readonly bins: SeriesBins) {
    this.blocks = [new DeviceBlock(bins.capacity, 1)];
  }

  /** The column of `device`, given on first use. */
  column(device: string): number {
    let column = this.columns.get(device);
    if (column === undefined) {
      column = this.devices.length;
      const last = this.blocks.length - 1;
      const { width } = this.blocks[last]!;
      if (column === last * BLOCK_COLUMNS + width)
        if (width < BLOCK_COLUMNS)
          this.blocks[last] = new DeviceBlock(this.bins.capacity, 2 * width, this.blocks[last]);
        else this.blocks.push(new DeviceBlock(this.bins.capacity, BLOCK_COLUMNS));
      this.columns.set(device, column);
      this.devices.push(device);
    }
    return column;
  }

  /**
   * The device in `column` has `level` requests outstanding from `timeNs` on; a change dated before the
   * previous one is taken at the previous one's time (as OccupancySeries.record).
   */
  record(column: number, timeNs: number, level: number): void {
    const block = this.blocks[column >> BLOCK_SHIFT]!;
    const at = column & (BLOCK_COLUMNS - 1);
    const changedNs = block.changedNs[at]!;
    const atNs = timeNs < changedNs ? changedNs : timeNs;
    const bin = this.bins.binAt(atNs);
    this.holdUntil(block, at, atNs);
    block.levels[at] = level;
    const cell = bin * block.width + at;
    if (level > block.maxByBin[cell]!) block.maxByBin[cell] = level;
  }

  /** Every device's level held up to `timeNs` (before an answer; the caller made the bins fit). */
  holdAllUntil(timeNs: number): void {
    for (let column = 0; column < this.devices.length; column++)
      this.holdUntil(this.blocks[column >> BLOCK_SHIFT]!, column & (BLOCK_COLUMNS - 1), timeNs);
  }

  /** Neighbouring bins merge pairwise (the width doubles): highest of the two, integrals summed. */
  mergePairs(): void {
    const half = this.bins.capacity >> 1;
    for (const { maxByBin, integralByBin, width } of this.blocks) {
      for (let bin = 0; bin < half; bin++) {
        const to = bin * width;
        const even = 2 * to;
        const odd = even + width;
        for (let at = 0; at < width; at++) {
          maxByBin[to + at] = Math.max(maxByBin[even + at]!, maxByBin[odd + at]!);
          integralByBin[to + at] = integralByBin[even + at]! + integralByBin[odd + at]!;
        }
      }
      maxByBin.fill(0, half * width);
      integralByBin.fill(0, half * width);
    }
  }

  /** The device's level now. */
  level(column: number): number {
    return this.blocks[column >> BLOCK_SHIFT]!.levels[column & (BLOCK_COLUMNS - 1)]!;
  }

  /** The device's highest level in each of the first `bins` bins. */
  maxima(column: number, bins: number): number[] {
    return this.gather(column, bins, 'maxByBin');
  }

  /** The device's level × ns in each of the first `bins` bins. */
  integrals(column: number, bins: number): number[] {
    return this.gather(column, bins, 'integralByBin');
  }

  private gather(column: number, bins: number, table: 'maxByBin' | 'integralByBin'): number[] {
    const block = this.blocks[column >> BLOCK_SHIFT]!;
    const at = column & (BLOCK_COLUMNS - 1);
    const values = new Array<number>(bins);
    for (let bin = 0; bin < bins; bin++) values[bin] = block[table][bin * block.width + at]!;
    return values;
  }

  /** Carries a device's level since its last change up to `timeNs`, bin by bin. */
  private holdUntil(block: DeviceBlock, at: number, timeNs: number): void {
    const from = block.changedNs[at]!;
    if (timeNs <= from) return;
    block.changedNs[at] = timeNs;
    const level = block.levels[at]!;
    if (level === 0) return; // bins start at zero
    const binNs = this.bins.binNs;
    const first = Math.floor(from / binNs);
    // The level held over [from, timeNs): a change at a bin's very start leaves that bin alone.
    const last = Math.ceil(timeNs / binNs) - 1;
    const { maxByBin, integralByBin, width } = block;
    for (let bin = first; bin <= last; bin++) {
      const cell = bin * width + at;
      if (level > maxByBin[cell]!) maxByBin[cell] = level;
      const start = bin === first ? from : bin * binNs;
      const end = bin === last ? timeNs : (bin + 1) * binNs;
      integralByBin[cell]! += level * (end - start);
    }
  }
}
