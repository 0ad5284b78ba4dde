/**
 * A bounded ring of rows: the live stream keeps the newest `capacity` events and forgets the oldest, so
 * memory stays flat however long the dashboard is left open. Not reactive on purpose: thousands of pushes
 * a second would otherwise each wake the UI; the stream store bumps a version once per frame instead.
 */
export class RingBuffer<T> {
  private readonly slots: (T | undefined)[];
  private start = 0;
  private length = 0;
  /** Rows ever pushed, and of those, rows pushed out by newer ones. */
  pushed = 0;
  evicted = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
    this.slots = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.length;
  }

  push(row: T): void {
    const end = (this.start + this.length) % this.capacity;
    this.slots[end] = row;
    this.pushed += 1;
    if (this.length < this.capacity) this.length += 1;
    else {
      this.start = (this.start + 1) % this.capacity;
      this.evicted += 1;
    }
  }

  pushAll(rows: readonly T[]): void {
    // Only the last `capacity` of a huge batch can survive; skip the rest without touching the slots.
    const skip = Math.max(0, rows.length - this.capacity);
    if (skip > 0) {
      this.pushed += skip;
      this.evicted += skip;
    }
    for (let i = skip; i < rows.length; i++) this.push(rows[i]!);
  }

  /** The i-th oldest row (0 = oldest), or undefined outside the ring. */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.length) return undefined;
    return this.slots[(this.start + index) % this.capacity];
  }

  /** The i-th newest row (0 = newest). */
  fromNewest(index: number): T | undefined {
    return this.at(this.length - 1 - index);
  }

  /** Oldest first. */
  toArray(): T[] {
    const out = new Array<T>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.at(i)!;
    return out;
  }

  clear(): void {
    this.slots.fill(undefined);
    this.start = 0;
    this.length = 0;
  }
}
