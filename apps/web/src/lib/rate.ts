/**
 * Events per wall-clock second over a sliding window: the live chart of fault rate. Seconds are slots of
 * a fixed array, so a long session costs nothing more than a short one.
 */
export class RateWindow {
  private readonly counts: number[];
  private readonly stamps: number[];

  constructor(readonly seconds = 60) {
    this.counts = new Array<number>(seconds).fill(0);
    this.stamps = new Array<number>(seconds).fill(-1);
  }

  add(count: number, nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    const slot = second % this.seconds;
    if (this.stamps[slot] !== second) {
      this.stamps[slot] = second;
      this.counts[slot] = 0;
    }
    this.counts[slot]! += count;
  }

  /** The window ending at `nowMs`: x in unix seconds (oldest first), y in events in that second. */
  series(nowMs: number): { x: number[]; y: number[] } {
    const now = Math.floor(nowMs / 1000);
    const x: number[] = [];
    const y: number[] = [];
    for (let second = now - this.seconds + 1; second <= now; second++) {
      const slot = ((second % this.seconds) + this.seconds) % this.seconds;
      x.push(second);
      y.push(this.stamps[slot] === second ? this.counts[slot]! : 0);
    }
    return { x, y };
  }

  clear(): void {
    this.counts.fill(0);
    this.stamps.fill(-1);
  }
}
