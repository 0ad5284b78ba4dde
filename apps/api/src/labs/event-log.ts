/**
 * A lab's event history: the most recent `capacity` events, for paging with filters (GET …/events). They
 * are kept compactly, as chunks of encoded rows (tuple-chunk.ts) rather than as objects: a lab running
 * flat out emits a million events a second, and a ring of 100 000 objects kept every one of them alive
 * past the young generation (copied, promoted, swept: a tenth of the server's time). Pages, which are
 * rare, decode the chunks they read. The stream reads the same rows through a cursor (cursor()), so a
 * batch is encoded once for both.
 *
 * Events have consecutive sequence numbers, so finding where a page starts is arithmetic, not a search.
 * The oldest chunk is let go once all its events are older than the oldest kept.
 */
import type { EmulatorEvent } from '@iommu-lab/emulator';
import { type EventMatcher, matchAll } from '../stream/event-filter';
import { EventTupleEncoder } from '../stream/event-tuples';
import { ChunkCursor, TupleChunk } from './tuple-chunk';

/** What a chunk's working buffer starts at (about 2 000 events of a DMA workload); it grows if needed. */
const WORKING_BYTES = 256 * 1024;

export class EventLog {
  /** Compiled rows of this lab's event shapes; its batches are the chunks, one at a time. */
  private readonly encoder = new EventTupleEncoder();
  /** Sealed chunks, oldest first. */
  private sealed: TupleChunk[] = [];
  /** The chunk events are added to. */
  private open: TupleChunk;
  private count = 0;
  /** Sequence number of the oldest event kept. */
  private firstSeq = 0;
  /** The chunk a page last decoded, and its events: paging on through one chunk decodes it once. */
  private decoded: { chunk: TupleChunk; events: EmulatorEvent[] } | null = null;

  /** `chunkEvents`: rows per chunk, the most a stream slice holds (the stream's batch size). */
  constructor(
    readonly capacity: number,
    private readonly chunkEvents = 2_000,
  ) {
    this.open = new TupleChunk(chunkEvents, this.encoder, Buffer.allocUnsafeSlow(WORKING_BYTES));
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
    this.open.add(event);
    if (this.count < this.capacity) this.count++;
    else this.firstSeq++;
    if (this.open.full) this.seal();
  }

  /** Up to `limit` events after `after` that match, oldest first. */
  page(after: number, limit: number, match: EventMatcher = matchAll): EmulatorEvent[] {
    const out: EmulatorEvent[] = [];
    let seq = Math.max(after + 1, this.firstSeq);
    const last = this.latestSeq;
    for (const chunk of [...this.sealed, this.open]) {
      if (this.count === 0 || seq > last || out.length >= limit) break;
      if (chunk.rows === 0 || chunk.lastSeq < seq) continue;
      const events = this.eventsOf(chunk);
      for (let index = seq - chunk.firstSeq; index < events.length && out.length < limit; index++) {
        const event = events[index]!;
        if (match(event)) out.push(event);
      }
      seq = chunk.lastSeq + 1;
    }
    return out;
  }

  /** A cursor on the rows added from now on. */
  cursor(): ChunkCursor {
    return new ChunkCursor(this.open, this.open.mark());
  }

  /** Forgets every event; a cursor goes on with the events added after. */
  clear(): void {
    this.seal();
    this.sealed = [];
    this.decoded = null;
    this.count = 0;
  }

  private seal(): void {
    const full = this.open;
    // The next chunk writes into the same working buffer, as large as the last one needed.
    this.open = full.next = new TupleChunk(this.chunkEvents, this.encoder, full.seal());
    this.sealed.push(full);
    while (this.sealed.length > 0 && this.sealed[0]!.lastSeq < this.firstSeq) this.sealed.shift();
  }

  private eventsOf(chunk: TupleChunk): EmulatorEvent[] {
    if (chunk === this.open) return chunk.events({ row: 0, byte: 0 }, chunk.mark());
    if (this.decoded?.chunk !== chunk)
      this.decoded = { chunk, events: chunk.events({ row: 0, byte: 0 }, chunk.mark()) };
    return this.decoded.events;
  }
}
