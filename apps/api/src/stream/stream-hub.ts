/**
 * A lab's live event stream to websocket clients. Each client has its own filter and its own bounded
 * queue; events go out in batches, at most one batch per client per flush, and only while the client's
 * socket is draining (its bufferedAmount below the high-water mark). A client that does not keep up
 * loses events, not memory: past its queue limit new events are dropped and counted, and the count is
 * told to that client (in the next batch, or in a "dropped" notice). Other clients and the lab never
 * wait for a slow one.
 */
import type { EmulatorEvent } from '@iommu-lab/emulator';
import type { ServerMessage, StreamFilter } from '@iommu-lab/wire';
import type { WebSocket } from 'ws';
import { type EventMatcher, compileFilter } from './event-filter';

export interface StreamLimits {
  /** Events a client may have queued before new ones are dropped. */
  maxQueuedEvents: number;
  /** Bytes the socket may have buffered before the hub stops sending to it. */
  highWaterBytes: number;
  /** Events per message. */
  batchEvents: number;
  /** How often queued events are flushed. */
  flushMs: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxQueuedEvents: 20_000,
  highWaterBytes: 1 << 20,
  batchEvents: 2_000,
  flushMs: 10,
};

export class StreamClient {
  private queue: EmulatorEvent[] = [];
  private head = 0;
  private matcher: EventMatcher;
  /** Dropped since the client was last told. */
  private dropped = 0;
  droppedTotal = 0;
  sent = 0;

  constructor(
    readonly socket: WebSocket,
    public filter: StreamFilter,
    private readonly limits: StreamLimits,
  ) {
    this.matcher = compileFilter(filter);
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  /** A new filter applies to events already queued as well as to those to come. */
  setFilter(filter: StreamFilter): void {
    this.filter = filter;
    this.matcher = compileFilter(filter);
    this.queue = this.queue.slice(this.head).filter(this.matcher);
    this.head = 0;
  }

  offer(event: EmulatorEvent): void {
    if (!this.matcher(event)) return;
    if (this.queued >= this.limits.maxQueuedEvents) {
      this.dropped++;
      this.droppedTotal++;
      return;
    }
    this.queue.push(event);
  }

  /** Sends what the socket can take now. */
  flush(): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    while (this.queued > 0 && this.socket.bufferedAmount < this.limits.highWaterBytes) {
      const end = Math.min(this.queue.length, this.head + this.limits.batchEvents);
      const events = this.queue.slice(this.head, end);
      this.head = end;
      this.send({ type: 'events', events: events as never, dropped: this.dropped });
      this.sent += events.length;
      this.dropped = 0;
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.dropped > 0 && this.queued === 0 && this.socket.bufferedAmount < this.limits.highWaterBytes) {
      this.send({ type: 'dropped', count: this.dropped, total: this.droppedTotal });
      this.dropped = 0;
    }
  }

  send(message: ServerMessage): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(message));
  }
}

export class StreamHub {
  readonly clients = new Set<StreamClient>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly limits: StreamLimits = DEFAULT_STREAM_LIMITS) {}

  add(socket: WebSocket, filter: StreamFilter): StreamClient {
    const client = new StreamClient(socket, filter, this.limits);
    this.clients.add(client);
    socket.on('close', () => this.clients.delete(client));
    socket.on('drain', () => client.flush());
    return client;
  }

  publish(event: EmulatorEvent): void {
    if (this.clients.size === 0) return;
    for (const client of this.clients) client.offer(event);
    this.timer ??= setTimeout(() => this.flush(), this.limits.flushMs);
  }

  flush(): void {
    this.timer = null;
    let waiting = false;
    for (const client of this.clients) {
      client.flush();
      if (client.queued > 0) waiting = true;
    }
    // Clients with events still queued are retried: their sockets may drain in between.
    if (waiting) this.timer = setTimeout(() => this.flush(), this.limits.flushMs);
  }

  broadcast(message: ServerMessage): void {
    for (const client of this.clients) client.send(message);
  }

  close(reason: string): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const client of this.clients) {
      client.send({ type: 'closing', reason });
      client.socket.close(1001, reason);
    }
    this.clients.clear();
  }
}
