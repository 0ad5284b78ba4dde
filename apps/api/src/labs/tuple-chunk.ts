/**
 * A run of a lab's consecutive events kept as `tuples` rows (stream/event-tuples.ts), written into one
 * buffer as each event comes (stream/json-writer.ts), so the event object is let go at once and dies
 * young, where a ring of the objects themselves kept each one alive long enough to be copied by the
 * scavenger and swept later. The same bytes serve the history (decoded
 * back into events when a page is read, which is rare) and the stream: a slice of the rows between two
 * marks, with the chunk's layouts in front, is a whole `event-tuples` message.
 *
 * In the buffer every row is followed by a comma, so the rows between two marks are one run of bytes.
 */
import type { EmulatorEvent } from '@iommu-lab/emulator';
import type { EventLayout } from '@iommu-lab/wire';
import { type EventTupleEncoder, decodeRows } from '../stream/event-tuples';
import { JsonWriter } from '../stream/json-writer';

/** A point between two rows of a chunk: rows before it, and the bytes they take. */
export interface ChunkMark {
  row: number;
  byte: number;
}

export class TupleChunk {
  /** Sequence number of its first event (events have consecutive ones); -1 while it has none. */
  firstSeq = -1;
  /** Rows it holds. */
  rows = 0;
  /** Every layout its rows use, indexed as the rows index them. */
  readonly layouts: EventLayout[];
  /** The chunk after this one, once this one is sealed: a cursor of the stream follows these. */
  next: TupleChunk | null = null;
  /** Where rows are written while the chunk is open; null once sealed. */
  private writer: JsonWriter | null;
  /** The rows' bytes once sealed, exactly their size. */
  private sealedBytes: Buffer | null = null;

  constructor(
    readonly capacity: number,
    private readonly encoder: EventTupleEncoder,
    buffer: Buffer,
  ) {
    this.layouts = encoder.beginBatch();
    this.writer = new JsonWriter(buffer);
  }

  get full(): boolean {
    return this.rows === this.capacity;
  }

  get lastSeq(): number {
    return this.firstSeq + this.rows - 1;
  }

  add(event: EmulatorEvent): void {
    if (this.rows++ === 0) this.firstSeq = event.seq;
    this.encoder.writeRow(event, this.layouts, this.writer!);
  }

  /** The end of the rows so far: a slice can end here. */
  mark(): ChunkMark {
    return { row: this.rows, byte: this.writer?.at ?? this.sealedBytes!.length };
  }

  /**
   * No more rows: its bytes move to a buffer of their own size, and the working buffer is handed back for
   * the next chunk (whoever seals it sets `next`).
   */
  seal(): Buffer {
    const { bytes, at } = this.writer!;
    this.sealedBytes = Buffer.allocUnsafeSlow(at); // not from the shared pool, which a small slice would pin
    bytes.copy(this.sealedBytes, 0, 0, at);
    this.writer = null;
    return bytes;
  }

  private get bytes(): Buffer {
    return this.writer?.bytes ?? this.sealedBytes!;
  }

  /** The events of rows [from, to), as they were. */
  events(from: ChunkMark, to: ChunkMark): EmulatorEvent[] {
    if (to.row === from.row) return [];
    const text = this.bytes.toString('utf8', from.byte, to.byte - 1);
    return decodeRows(this.layouts, JSON.parse(`[${text}]`) as unknown[][]);
  }

  /** An `event-tuples` message of rows [from, to), under the layouts the chunk had at `to`. */
  message(from: ChunkMark, to: ChunkMark, layoutCount: number): Buffer {
    const head = Buffer.from(
      `{"type":"event-tuples","layouts":${JSON.stringify(this.layouts.slice(0, layoutCount))},"events":[`,
    );
    const tail = Buffer.from('],"dropped":0}');
    const body = to.byte - 1 - from.byte; // the last row's comma left out
    const message = Buffer.allocUnsafe(head.length + body + tail.length);
    head.copy(message, 0);
    this.bytes.copy(message, head.length, from.byte, to.byte - 1);
    tail.copy(message, head.length + body);
    return message;
  }
}

/**
 * A reader of chunks from some point on (the stream's): each take() gives the rows added since the last
 * one, as one slice per chunk they fall in. It follows `next` from chunk to chunk, so it sees every row
 * even of chunks the history has already let go.
 */
export class ChunkCursor {
  constructor(
    private chunk: TupleChunk,
    private at: ChunkMark,
  ) {}

  take(): TupleSlice[] {
    const slices: TupleSlice[] = [];
    for (;;) {
      const end = this.chunk.mark();
      if (end.row > this.at.row) slices.push(new TupleSlice(this.chunk, this.at, end));
      this.at = end;
      if (this.chunk.next === null) return slices;
      this.chunk = this.chunk.next;
      this.at = { row: 0, byte: 0 };
    }
  }
}

/** Rows [from, to) of one chunk: a stream batch, its message made from the chunk's bytes. */
export class TupleSlice {
  private readonly layoutCount: number;

  constructor(
    private readonly chunk: TupleChunk,
    private readonly from: ChunkMark,
    private readonly to: ChunkMark,
  ) {
    this.layoutCount = chunk.layouts.length;
  }

  get count(): number {
    return this.to.row - this.from.row;
  }

  message(): Buffer {
    return this.chunk.message(this.from, this.to, this.layoutCount);
  }

  events(): EmulatorEvent[] {
    return this.chunk.events(this.from, this.to);
  }
}
