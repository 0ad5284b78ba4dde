/**
 * The lab's event stream: its history (kept by the server) read through the filter, then its websocket;
 * a bounded ring of rows for the table, the rows of the selected event's fault flows, the fault-latency
 * accumulators for the charts, the server's drop counts, and the page-request groups waiting for this
 * dashboard to answer them as the outside fault handler.
 *
 * Thousands of events a second arrive here. The socket asks for the compact `tuples` encoding (each event
 * an array of values under layouts sent once a batch), decoded by the client package's EventTupleDecoder,
 * so no message repeats every event's keys. Events go into plain (non-reactive) structures; one reactive
 * `version` is bumped at most once per animation frame, and that is what the table and charts follow.
 */
import { EventTupleDecoder, matchesFilter } from '@iommu-lab/client';
import { api, describeError } from '../lib/client';
import { toRow, changesLabState, type EventRow } from '../lib/events';
import { FaultLatencyTracker } from '../lib/fault-latency';
import { LiveHistogram } from '../lib/histogram';
import { RingBuffer } from '../lib/ring-buffer';
import { FlowHighlight } from '../lib/stream/flow-highlight';
import type {
  ClientMessage,
  PendingFault,
  ResponseCode,
  ServerMessage,
  StreamFilter,
  WireEvent,
} from '@iommu-lab/client';

export const RING_CAPACITY = 50_000;

export type StreamStatus = 'idle' | 'connecting' | 'open' | 'closed';

/** A group waiting for an answer, from a `fault.awaiting-client` event or GET /faults/pending. */
export interface PendingGroup {
  cookie: number;
  group: number | null;
  device: string;
  pasid: number | null;
  category: string | null;
  stage: number;
  faults: { address: string; perm: string }[];
  sinceNs: number;
  deadlineNs: number | null;
}

export interface AnswerNote {
  cookie: number;
  code: string;
  ok: boolean;
  message: string;
}

export class StreamStore {
  status = $state<StreamStatus>('idle');
  /** Bumped (at most once a frame) when rows, counters or charts changed. */
  version = $state(0);
  paused = $state(false);
  /** What the server streams and the table shows (raw: replaced whole, read for every event). */
  filter = $state.raw<StreamFilter>({});
  /** The row picked for the detail pane; rows of the same fault flows are highlighted with it. */
  selected = $state.raw<EventRow | null>(null);
  /** How many other rows shown share a fault flow with the selected one. */
  relatedCount = $state(0);
  /** The lab's history (kept by the server) is being read; live events wait until it is in. */
  loadingHistory = $state(false);
  /** The newest sequence number shown: history and live events at or below it are already in. */
  private lastSeq = -1;
  /** Live events that arrived while the history was read, in order. */
  private backlog: WireEvent[] | null = null;
  /** Counts history reads: a read overtaken by a newer one (another filter) stops. */
  private historyRead = 0;
  /** Events the server dropped for this client (it was too slow), in all. */
  droppedTotal = $state(0);
  received = $state(0);
  /** Events that arrived while the table was frozen. */
  sincePause = $state(0);
  pending = $state<PendingGroup[]>([]);
  answers = $state<AnswerNote[]>([]);
  lastError = $state<string | null>(null);

  readonly ring = new RingBuffer<EventRow>(RING_CAPACITY);
  /** The rows as they were when the table was paused (oldest first). */
  private frozen: EventRow[] | null = null;
  readonly latency = new LiveHistogram();
  private readonly tracker = new FaultLatencyTracker();
  private readonly highlight = new FlowHighlight();

  private socket: WebSocket | null = null;
  /** The socket's `tuples` layouts, compiled once per shape of event (a new socket starts a new one). */
  private decoder = new EventTupleDecoder();
  private lab: string | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private reconnectDelayMs = 500;
  private flushScheduled = false;
  private labChangeListener: (() => void) | null = null;

  private labDeletedListener: ((lab: string) => void) | null = null;

  /** Called when the server says the lab was deleted (by another tab or client). */
  onLabDeleted(listener: (lab: string) => void): void {
    this.labDeletedListener = listener;
  }

  /** Called (throttled by the listener) when events that change the lab's snapshot arrive (lib/events.ts). */
  onLabChange(listener: () => void): void {
    this.labChangeListener = listener;
  }

  /** Rows the table shows: frozen while paused, live otherwise. Reading it follows `version`. */
  get rowCount(): number {
    if (this.version < 0) return 0;
    return this.frozen ? this.frozen.length : this.ring.size;
  }

  /** The i-th newest row of what the table shows. */
  row(indexFromNewest: number): EventRow | undefined {
    if (this.frozen) return this.frozen[this.frozen.length - 1 - indexFromNewest];
    return this.ring.fromNewest(indexFromNewest);
  }

  connect(lab: string | null): void {
    if (lab === this.lab && this.socket) return;
    this.disconnect();
    this.lab = lab;
    this.lastSeq = -1;
    this.clearRows();
    this.pending = [];
    this.answers = [];
    this.droppedTotal = 0;
    if (lab) this.open();
  }

  disconnect(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000);
    this.status = 'idle';
  }

  private open(): void {
    const lab = this.lab;
    if (!lab) return;
    this.status = 'connecting';
    const socket = new WebSocket(api.socketUrl(`/labs/${encodeURIComponent(lab)}/stream`));
    this.socket = socket;
    this.decoder = new EventTupleDecoder();
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.status = 'open';
      this.reconnectDelayMs = 500;
      this.send(subscription(this.filter));
      void this.loadHistory(lab, socket);
      void this.loadPending();
    };
    socket.onmessage = (message) => {
      if (this.socket !== socket) return;
      try {
        this.handle(JSON.parse(String(message.data)) as ServerMessage);
      } catch (error) {
        // A batch the protocol does not allow (a ProtocolError of the decoder): said, and the stream goes on.
        this.lastError = `A stream message could not be read: ${describeError(error).message}`;
      }
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.status = 'closed';
      // Reconnect while this lab is still the one shown (a server restart, a proxy hiccup).
      this.reconnectTimer = setTimeout(() => this.open(), this.reconnectDelayMs);
      this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, 5000);
    };
  }

  private send(message: ClientMessage): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  private handle(message: ServerMessage): void {
    switch (message.type) {
      case 'event-tuples':
        this.batch(this.decoder.decode(message), message.dropped);
        break;
      case 'events':
        this.batch(message.events, message.dropped);
        break;
      case 'dropped':
        this.droppedTotal = Math.max(this.droppedTotal, message.total);
        this.scheduleFlush();
        break;
      case 'responded':
        this.removePending(message.cookie);
        this.note({ cookie: message.cookie, code: message.code, ok: true, message: 'answered' });
        break;
      case 'error':
        this.lastError = `${message.code}: ${message.message}`;
        this.note({ cookie: 0, code: message.code, ok: false, message: message.message });
        break;
      case 'reset':
        this.lastSeq = -1;
        this.clearRows();
        this.pending = [];
        this.labChangeListener?.();
        break;
      case 'lab.deleted':
        this.labDeletedListener?.(message.lab);
        break;
      case 'closing':
        // The lab was deleted or the server is stopping: a refresh tells which (and forgets a deleted lab).
        this.lastError = `The server closed the stream: ${message.reason}`;
        this.labChangeListener?.();
        break;
      default:
        break;
    }
  }

  /** A live batch, whichever encoding it came in. */
  private batch(events: WireEvent[], dropped: number): void {
    this.droppedTotal += dropped;
    if (this.backlog) this.backlog.push(...events);
    else this.ingest(events);
  }

  /**
   * Reads what the server kept since the newest event shown (all of it on first open; the gap after a
   * reconnect), then lets the live events that arrived meanwhile in, so the table has no gap and no
   * duplicate: the subscription was made first, so the history reaches at least where live events begin.
   */
  private async loadHistory(lab: string, socket: WebSocket): Promise<void> {
    const read = ++this.historyRead;
    const current = () => this.socket === socket && this.historyRead === read;
    this.backlog = [];
    this.loadingHistory = true;
    try {
      for (let after = this.lastSeq; ;) {
        const page = await api.history.events(lab, { after, limit: 1000 });
        if (!current()) return;
        this.ingest(page.events);
        if (page.events.length < 1000) break;
        after = page.next;
      }
    } catch (error) {
      this.lastError = `The lab's history could not be read: ${describeError(error).message}`;
    } finally {
      if (current()) {
        const backlog = this.backlog ?? [];
        this.backlog = null;
        this.loadingHistory = false;
        this.ingest(backlog);
      }
    }
  }

  /**
   * History pages and live batches, in sequence order, into the ring and the accumulators. The filter is
   * applied here too: history is read unfiltered, and live events sent before the server read a new
   * subscription still follow the old one.
   */
  private ingest(incoming: WireEvent[]): void {
    // Whatever is at or below the newest shown is in already (history and live overlap by design).
    const filter = this.filter;
    const events = incoming.filter((event) => event.seq > this.lastSeq && matchesFilter(event, filter));
    if (events.length > 0) this.lastSeq = events.at(-1)!.seq;
    let changed = false;
    const rows = new Array<EventRow>(events.length);
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      rows[i] = toRow(event);
      if (!changed && changesLabState(event.kind)) changed = true;
      const latency = this.tracker.observe(event);
      if (latency !== null) this.latency.add(latency);
      if (event.kind === 'fault.awaiting-client') this.addPending(event);
      else if (event.kind === 'fault.response' && event.group !== null)
        this.removeGroup(event.group as number);
    }
    this.ring.pushAll(rows);
    if (!this.frozen) {
      this.highlight.add(rows);
      this.highlight.forgetBefore(this.ring.at(0)?.seq ?? 0);
      this.relatedCount = this.highlight.count;
    }
    this.received += events.length;
    if (this.paused) this.sincePause += events.length;
    if (changed) this.labChangeListener?.();
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const flush = () => {
      this.flushScheduled = false;
      this.version += 1;
    };
    if (typeof requestAnimationFrame === 'function' && document.visibilityState === 'visible') {
      requestAnimationFrame(flush);
    } else setTimeout(flush, 100);
  }

  /**
   * A new filter: the server streams only what it lets through, and the table starts again from the lab's
   * history read through it, so that it never mixes rows of the old filter with rows of the new.
   */
  subscribe(filter: StreamFilter): void {
    this.filter = filter;
    this.lastSeq = -1;
    this.clearRows();
    const { lab, socket } = this;
    if (lab && socket && this.send(subscription(filter))) void this.loadHistory(lab, socket);
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    this.frozen = paused ? this.ring.toArray() : null;
    this.sincePause = 0;
    // Rows that arrived while frozen were not shown; the highlight is found again over what is.
    this.select(this.selected);
    this.version += 1;
  }

  select(row: EventRow | null): void {
    this.highlight.select(row, this.frozen ?? this.liveRows());
    this.relatedCount = this.highlight.count;
    this.selected = row;
  }

  /** Whether a row shares a fault flow with the selected one (reading it follows the selection). */
  inSelectedFlow(row: EventRow): boolean {
    return this.selected !== null && this.highlight.has(row);
  }

  /** The ring's rows, oldest first, without copying them. */
  private *liveRows(): Generator<EventRow> {
    for (let i = 0; i < this.ring.size; i++) yield this.ring.at(i)!;
  }

  clearRows(): void {
    this.select(null);
    this.ring.clear();
    this.latency.clear();
    this.tracker.clear();
    this.received = 0;
    this.sincePause = 0;
    if (this.frozen) this.frozen = [];
    this.version += 1;
  }

  // The outside fault handler.

  private addPending(event: WireEvent): void {
    const cookie = event.cookie as number;
    if (this.pending.some((group) => group.cookie === cookie)) return;
    this.pending.push({
      cookie,
      group: (event.group as number | undefined) ?? null,
      device: String(event.device),
      pasid: (event.pasid as number | null) ?? null,
      category: (event.category as string | null) ?? null,
      stage: Number(event.stage),
      faults: ((event.faults as { address: string; perm: string }[] | undefined) ?? []).map(
        ({ address, perm }) => ({
          address,
          perm,
        }),
      ),
      sinceNs: event.timeNs,
      deadlineNs: (event.deadlineNs as number | undefined) ?? null,
    });
  }

  private removePending(cookie: number): void {
    this.pending = this.pending.filter((group) => group.cookie !== cookie);
  }

  private removeGroup(group: number): void {
    if (this.pending.some((pending) => pending.group === group)) {
      this.pending = this.pending.filter((pending) => pending.group !== group);
    }
  }

  private note(answer: AnswerNote): void {
    this.answers = [answer, ...this.answers].slice(0, 20);
  }

  /** Merges the server's list of waiting groups (GET /faults/pending) into the panel's. */
  async loadPending(): Promise<void> {
    const lab = this.lab;
    if (!lab) return;
    try {
      const waiting: PendingFault[] = await api.faults.pending(lab);
      if (lab !== this.lab) return;
      // A local lookup table, not state.
      // eslint-disable-next-line svelte/prefer-svelte-reactivity
      const known = new Map(this.pending.map((group) => [group.cookie, group]));
      this.pending = waiting.map(
        (fault) =>
          known.get(fault.cookie) ?? {
            cookie: fault.cookie,
            group: null,
            device: fault.device,
            pasid: fault.pasid,
            category: fault.category,
            stage: fault.stage,
            faults: fault.faults,
            sinceNs: fault.sinceNs,
            deadlineNs: null,
          },
      );
    } catch (error) {
      this.lastError = describeError(error).message;
    }
  }

  /** Answers a waiting group over the websocket (REST when the socket is down). */
  async respond(cookie: number, code: ResponseCode): Promise<void> {
    if (this.send({ type: 'respond', cookie, code })) return;
    const lab = this.lab;
    if (!lab) return;
    try {
      await api.faults.respond(lab, cookie, code);
      this.removePending(cookie);
      this.note({ cookie, code, ok: true, message: 'answered over REST' });
    } catch (error) {
      const { code: errorCode, message } = describeError(error);
      this.note({ cookie, code: errorCode, ok: false, message });
    }
  }
}

/** The subscription this dashboard sends: its filter, batches in the compact encoding. */
function subscription(filter: StreamFilter): ClientMessage {
  return { type: 'subscribe', filter, encoding: 'tuples' };
}

export const streamStore = new StreamStore();
