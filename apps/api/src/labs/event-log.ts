/**
 * A lab's event history: the most recent events in a ring, for paging with filters (GET …/events). Events
 * have consecutive sequence numbers, so finding where a page starts is arithmetic, not a search.
 */
import type { EmulatorEvent } from '@iommu-lab/emulator';
import { type EventMatcher, matchAll } from '../stream/event-filter';

export class EventLog {
  private readonly ring: (EmulatorEvent | undefined)[];
  private start = 0;
  private count = 0;
  /** Sequence number of the oldest event kept. */
  private firstSeq = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array<EmulatorEvent | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  get oldestSeq(): number {
    return this.count === 0 ? -1 : this.firstSeq;
  }

  /** Sequence number of the newest event kept. */
  get latestSeq(): number {
    return this.count === 0 ? -1 : this.firstSeq + this.count - 1;
  }

  push(event: EmulatorEvent): void {
    if (this.count === 0) this.firstSeq = event.seq;
    if (this.count < this.capacity) {
      this.ring[(this.start + this.count) % this.capacity] = event;
      this.count++;
      return;
    }
    this.ring[this.start] = event;
    this.start = (this.start + 1) % this.capacity;
    this.firstSeq++;
  }

  /** Up to `limit` events after `after` that match, oldest first. */
  page(after: number, limit: number, match: EventMatcher = matchAll): EmulatorEvent[] {
    const out: EmulatorEvent[] = [];
    let index = Math.max(0, after + 1 - this.firstSeq);
    for (; index < this.count && out.length < limit; index++) {
      const event = this.ring[(this.start + index) % this.capacity]!;
      if (match(event)) out.push(event);
    }
    return out;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.start = 0;
    this.count = 0;
  }
}
