/**
 * A lab's live event stream to websocket clients. Each client has its own filter and its own bounded
 * queue; events go out in batches, and only while the client's socket is draining (its bufferedAmount
 * below the high-water mark). A client that does not keep up loses events, not memory: past its queue
 * limit its oldest queued events are dropped (it keeps the most recent) and counted, and the count is
 * told to that client in a "dropped" notice before its next batch. Every byte written to a client counts
 * against its socket's bound (client-socket.ts). Other clients and the lab never wait for a slow one.
 * Dropping the oldest also keeps memory flat with many slow clients: they all hold the same recent
 * batches rather than each its own window of the past.
 *
 * Published events are flushed within flushMs, and at the next turn of the event loop once a whole batch's
 * worth is waiting.
 *
 * Fan-out costs one serialisation per batch, not one per client: clients with the same filter share a
 * group, each flush cuts the group's new events into batches once, and a batch is serialised the first
 * time a client sends it, then the same bytes go to every client of the group. A flush that takes long
 * yields to the event loop between clients, so new clients and REST requests are answered meanwhile.
 *
 * A client chooses its encoding when it subscribes: `json` (each event an object, the default) or `tuples`
 * (event-tuples.ts: each event an array of values under layouts sent once a batch). A batch is serialised
 * at most once per encoding, when the first client that wants that encoding sends it.
 *
 * The lab's history already holds every event encoded as tuples (labs/event-log.ts), so clients without a
 * filter take their batches from it through a cursor: slices of its rows, each sent as it is, the event
 * objects long gone. The hub keeps the event objects themselves only while a client needs them (a filter,
 * or the json encoding), and builds those batches from them as before.
 */
import type { EmulatorEvent } from '@iommu-lab/emulator';
import type { ServerMessage, StreamEncoding, StreamFilter } from '@iommu-lab/wire';
import type { WebSocket } from 'ws';
import type { EventLog } from '../labs/event-log';
import type { ChunkCursor, TupleSlice } from '../labs/tuple-chunk';
import { ClientSocket, type SocketLimits } from './client-socket';
import { type EventMatcher, compileFilter, matchAll } from './event-filter';
import { EventTupleEncoder } from './event-tuples';

export interface StreamLimits extends SocketLimits {
  /** Events a client may have queued before new ones are dropped. */
  maxQueuedEvents: number;
  /** Bytes the socket may have buffered before the hub stops sending events to it. */
  highWaterBytes: number;
  /** Events per message. */
  batchEvents: number;
  /** How long published events may wait to be flushed (a whole batch's worth is flushed at once). */
  flushMs: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxQueuedEvents: 20_000,
  highWaterBytes: 1 << 20,
  batchEvents: 2_000,
  flushMs: 10,
  maxBufferedBytes: 8 << 20,
  messagesPerSecond: 1_000,
};

/** Wall time a flush may take before it lets the event loop run. */
const FLUSH_SLICE_MS = 4;

/**
 * Events cut once for a group, serialised once per encoding for all of its clients. Its `dropped` is always
 * 0: a client's own losses go in a `dropped` notice just before, so the bytes stay the same for every client.
 * A batch from the history's rows (a slice) has its tuples already, and its events only if the hub kept
 * them; otherwise they are decoded from the slice when asked for (a json client or a new filter, rarely).
 */
class Batch {
  private json: Buffer | null = null;
  private tuples: Buffer | null = null;

  private constructor(
    private known: EmulatorEvent[] | null,
    readonly count: number,
    private readonly encoder: EventTupleEncoder,
    private readonly slice: TupleSlice | null,
  ) {}

  static of(events: EmulatorEvent[], encoder: EventTupleEncoder): Batch {
    return new Batch(events, events.length, encoder, null);
  }

  static ofSlice(slice: TupleSlice, events: EmulatorEvent[] | null, encoder: EventTupleEncoder): Batch {
    return new Batch(events, slice.count, encoder, slice);
  }

  get events(): EmulatorEvent[] {
    return (this.known ??= this.slice!.events());
  }

  message(encoding: StreamEncoding): Buffer {
    if (encoding === 'tuples')
      return (this.tuples ??= this.slice
        ? this.slice.message()
        : Buffer.from(this.encoder.encode(this.events, 0)));
    return (this.json ??= Buffer.from(JSON.stringify({ type: 'events', events: this.events, dropped: 0 })));
  }
}

export class StreamClient {
  private queue: Batch[] = [];
  private queuedEvents = 0;
  /** Dropped since the client was last told. */
  private dropped = 0;
  droppedTotal = 0;
  sent = 0;
  /** How its batches are written, from its last subscription. */
  encoding: StreamEncoding = 'json';
  readonly channel: ClientSocket;

  constructor(
    readonly socket: WebSocket,
    public filter: StreamFilter,
    private readonly limits: StreamLimits,
    private readonly encoder: EventTupleEncoder,
  ) {
    this.channel = new ClientSocket(socket, limits);
  }

  get queued(): number {
    return this.queuedEvents;
  }

  /** Re-filters the events already queued (they no longer share batches with the old group). */
  refilter(matcher: EventMatcher): void {
    const kept = this.queue.flatMap((batch) => batch.events.filter(matcher));
    this.queue = [];
    this.queuedEvents = 0;
    for (let start = 0; start < kept.length; start += this.limits.batchEvents)
      this.push(Batch.of(kept.slice(start, start + this.limits.batchEvents), this.encoder));
  }

  /**
   * The group's new events (`total` of them, the newest cut into `batches`); past the queue limit the
   * oldest batches go. Batches are dropped whole, so each stays one serialisation shared with the group.
   */
  offer(batches: readonly Batch[], total: number): void {
    let lost = total;
    for (const batch of batches) {
      this.push(batch);
      lost -= batch.count;
    }
    while (this.queuedEvents > this.limits.maxQueuedEvents) {
      const oldest = this.queue.shift()!;
      this.queuedEvents -= oldest.count;
      lost += oldest.count;
    }
    this.dropped += lost;
    this.droppedTotal += lost;
  }

  private push(batch: Batch): void {
    this.queue.push(batch);
    this.queuedEvents += batch.count;
  }

  /** Sends what the socket can take now. */
  flush(): void {
    if (!this.channel.open) return;
    while (this.queue.length > 0 && this.channel.bufferedAmount < this.limits.highWaterBytes) {
      this.tellDropped();
      const batch = this.queue.shift()!;
      this.queuedEvents -= batch.count;
      if (!this.channel.write(batch.message(this.encoding))) return;
      this.sent += batch.count;
    }
    if (this.queue.length === 0 && this.channel.bufferedAmount < this.limits.highWaterBytes)
      this.tellDropped();
  }

  private tellDropped(): void {
    if (this.dropped === 0) return;
    this.send({ type: 'dropped', count: this.dropped, total: this.droppedTotal });
    this.dropped = 0;
  }

  send(message: ServerMessage): void {
    this.channel.write(JSON.stringify(message));
  }
}

/** Clients with the same filter. */
interface Group {
  matcher: EventMatcher;
  clients: Set<StreamClient>;
}

/** One key per filter meaning: list order and repeats do not matter; a flag (`flows`) counts when given. */
function filterKey(filter: StreamFilter): string {
  const entries = Object.entries(filter)
    .filter(([, values]) => (Array.isArray(values) ? values.length > 0 : values !== undefined))
    .map(([field, values]) => [
      field,
      Array.isArray(values)
        ? [...new Set((values as unknown[]).map((value) => JSON.stringify(value)))].sort()
        : values,
    ])
    .sort(([a], [b]) => String(a).localeCompare(String(b)));
  return JSON.stringify(entries);
}

export class StreamHub {
  readonly clients = new Set<StreamClient>();
  private readonly groups = new Map<string, Group>();
  private readonly groupOf = new Map<StreamClient, string>();
  /** Compiled layouts of this lab's events, shared by every batch. */
  private readonly encoder = new EventTupleEncoder();
  /** Where the history's rows not yet distributed begin; null while there are no clients. */
  private cursor: ChunkCursor | null = null;
  /** Events published since the last flush, for every group to take its share (kept while keepEvents). */
  private pending: EmulatorEvent[] = [];
  /** Whether a group needs the event objects: one with a filter, or a json client. */
  private keepEvents = false;
  /** Events published since the last flush. */
  private published = 0;
  private timer: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | null = null;
  /** Clients the current flush has yet to visit (a flush that yielded continues with these). */
  private flushing: StreamClient[] = [];

  /** `history`: the lab's, which every published event has been pushed to first. */
  constructor(
    private readonly history: EventLog,
    private readonly limits: StreamLimits = DEFAULT_STREAM_LIMITS,
  ) {}

  add(socket: WebSocket, filter: StreamFilter): StreamClient {
    // Events published before the client came (and its hello said where history ends) are not its own.
    this.distribute();
    this.cursor ??= this.history.cursor();
    const client = new StreamClient(socket, filter, this.limits, this.encoder);
    this.clients.add(client);
    this.join(client, filter);
    socket.on('close', () => {
      this.leave(client);
      this.clients.delete(client);
      if (this.clients.size > 0) return;
      this.cursor = null;
      this.pending = [];
      this.published = 0;
    });
    return client;
  }

  /**
   * A new subscription: its filter applies to events already queued as well as to those to come, its
   * encoding to every batch sent from now on.
   */
  subscribe(client: StreamClient, filter: StreamFilter, encoding: StreamEncoding): void {
    this.leave(client);
    client.filter = filter;
    client.encoding = encoding;
    client.refilter(this.join(client, filter).matcher);
  }

  publish(event: EmulatorEvent): void {
    if (this.clients.size === 0) return;
    if (this.keepEvents) this.pending.push(event);
    // A full batch goes out as soon as the loop is free (after the lab's tick), not flushMs later: a lab
    // running flat out would otherwise publish more than a client's queue holds between two flushes, and
    // clients that keep up would lose events for the wait alone.
    if (++this.published === this.limits.batchEvents) this.flushSoon();
    else this.timer ??= setTimeout(() => this.flush(), this.limits.flushMs);
  }

  private flushSoon(): void {
    if (this.flushing.length > 0) return; // a flush that yielded continues at the next turn already
    this.cancel();
    this.timer = setImmediate(() => this.flush());
  }

  flush(): void {
    this.timer = null;
    if (this.flushing.length === 0) {
      this.distribute();
      this.flushing = [...this.clients];
    }
    const until = performance.now() + FLUSH_SLICE_MS;
    while (this.flushing.length > 0) {
      this.flushing.pop()!.flush();
      if (this.flushing.length > 0 && performance.now() > until) {
        this.timer = setImmediate(() => this.flush());
        return;
      }
    }
    // Clients with events still queued are retried: their sockets may drain in between.
    for (const client of this.clients)
      if (client.queued > 0 || this.published > 0) {
        this.timer = setTimeout(() => this.flush(), this.limits.flushMs);
        break;
      }
  }

  broadcast(message: ServerMessage): void {
    const bytes = Buffer.from(JSON.stringify(message));
    for (const client of this.clients) client.channel.write(bytes);
  }

  close(reason: string): void {
    this.cancel();
    for (const client of this.clients) {
      client.send({ type: 'closing', reason });
      client.socket.close(1001, reason);
    }
    this.clients.clear();
    this.groups.clear();
    this.groupOf.clear();
    this.cursor = null;
    this.pending = [];
    this.published = 0;
    this.flushing = [];
  }

  /**
   * Each group takes the pending events its filter selects, cut into batches once for all its clients; a
   * group without a filter takes them all as the history's slices.
   */
  private distribute(): void {
    const slices = this.cursor?.take() ?? [];
    this.published = 0;
    const total = slices.reduce((sum, slice) => sum + slice.count, 0);
    // Kept since the last flush, unless keepEvents changed in between: then read back from the slices.
    let events: EmulatorEvent[] | null = this.pending.length === total ? this.pending : null;
    this.pending = [];
    if (total === 0) return;
    const all = () => (events ??= slices.flatMap((slice) => slice.events()));
    for (const group of this.groups.values()) {
      if (group.matcher === matchAll) {
        const batches = this.sliceBatches(slices, events);
        for (const client of group.clients) client.offer(batches, total);
        continue;
      }
      const matched = all().filter(group.matcher);
      if (matched.length === 0) continue;
      const batches = this.eventBatches(matched);
      for (const client of group.clients) client.offer(batches, matched.length);
    }
  }

  /** Batches of `matched`; only the newest maxQueuedEvents could stay queued anywhere, older ones are counted, never cut. */
  private eventBatches(matched: EmulatorEvent[]): Batch[] {
    const { batchEvents, maxQueuedEvents } = this.limits;
    const newest = matched.length > maxQueuedEvents ? matched.slice(-maxQueuedEvents) : matched;
    const batches: Batch[] = [];
    for (let start = 0; start < newest.length; start += batchEvents)
      batches.push(Batch.of(newest.slice(start, start + batchEvents), this.encoder));
    return batches;
  }

  /** A batch per slice, the newest maxQueuedEvents' worth (offer trims the rest); with `events` (all of the slices'), each has its own. */
  private sliceBatches(slices: readonly TupleSlice[], events: EmulatorEvent[] | null): Batch[] {
    const batches: Batch[] = [];
    let end = events?.length ?? 0;
    for (let index = slices.length - 1, kept = 0; index >= 0 && kept < this.limits.maxQueuedEvents; index--) {
      const slice = slices[index]!;
      kept += slice.count;
      batches.push(Batch.ofSlice(slice, events && events.slice(end - slice.count, end), this.encoder));
      end -= slice.count;
    }
    return batches.reverse();
  }

  private join(client: StreamClient, filter: StreamFilter): Group {
    const key = filterKey(filter);
    let group = this.groups.get(key);
    if (!group) {
      group = { matcher: compileFilter(filter), clients: new Set() };
      this.groups.set(key, group);
    }
    group.clients.add(client);
    this.groupOf.set(client, key);
    this.keepEvents = this.needsEvents();
    return group;
  }

  private leave(client: StreamClient): void {
    const key = this.groupOf.get(client);
    if (key === undefined) return;
    this.groupOf.delete(client);
    const group = this.groups.get(key)!;
    group.clients.delete(client);
    if (group.clients.size === 0) this.groups.delete(key);
    this.keepEvents = this.needsEvents();
  }

  /** Whether some client needs the event objects (distribute reads them back from the history if not kept). */
  private needsEvents(): boolean {
    for (const group of this.groups.values()) {
      if (group.matcher !== matchAll) return true;
      for (const client of group.clients) if (client.encoding === 'json') return true;
    }
    return false;
  }

  private cancel(): void {
    if (this.timer === null) return;
    clearTimeout(this.timer as ReturnType<typeof setTimeout>);
    clearImmediate(this.timer as ReturnType<typeof setImmediate>);
    this.timer = null;
  }
}
