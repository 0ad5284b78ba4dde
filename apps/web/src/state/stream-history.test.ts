/**
 * The stream store against a fake socket and a fake history: what the server kept before the page opened
 * reaches the table and the round-trip histogram alike, a new filter re-reads the history through it, and
 * the highlight of a flow is kept up as live batches arrive; live batches are asked for and read in the
 * compact `tuples` encoding, as the server's own encoder writes it.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EventPage, ServerMessage, WireEvent } from '@iommu-lab/client';
import type { EmulatorEvent } from '@iommu-lab/emulator';
import { EventTupleEncoder } from '../../../api/src/stream/event-tuples';
import { api } from '../lib/client';
import { binLowerBound } from '../lib/histogram';
import { StreamStore } from './stream.svelte';

class FakeSocket {
  static readonly OPEN = 1;
  static last: FakeSocket | null = null;
  readyState = 0;
  readonly sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((message: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.last = this;
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {}
  open() {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
  }
  deliver(message: ServerMessage | string) {
    this.onmessage?.({ data: typeof message === 'string' ? message : JSON.stringify(message) });
  }
}

const event = (seq: number, timeNs: number, fields: Record<string, unknown>) =>
  ({ seq, timeNs, ...fields }) as WireEvent;

// One PRI fault (flow 7) answered 6 µs after its request, and a DMA page of no flow.
const HISTORY = [
  event(1, 100, { kind: 'pri.page-request', request: 1, flow: 7, device: 'nic0' }),
  event(2, 150, { kind: 'dma.page', device: 'nic0' }),
  event(3, 900, { kind: 'fault.group', group: 1, requests: [1], flows: [7], device: 'nic0' }),
  event(4, 6100, { kind: 'fault.response', group: 1, request: 1, flows: [7], device: 'nic0' }),
];

/** Resolves once every history page asked for so far has been ingested. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('the stream store and the lab history', () => {
  let reads: { after: number | undefined }[];

  beforeEach(() => {
    reads = [];
    vi.stubGlobal('WebSocket', FakeSocket);
    vi.spyOn(api.history, 'events').mockImplementation(async (_lab, query = {}) => {
      reads.push({ after: query.after });
      const events = HISTORY.filter((each) => each.seq > (query.after ?? -1));
      return { events, next: events.at(-1)?.seq ?? -1, oldest: 1 } as EventPage;
    });
    vi.spyOn(api.faults, 'pending').mockResolvedValue([]);
  });

  afterEach(() => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });

  async function opened(): Promise<{ store: StreamStore; socket: FakeSocket }> {
    const store = new StreamStore();
    store.connect('lab1');
    const socket = FakeSocket.last!;
    socket.open();
    await settle();
    return { store, socket };
  }

  it('times the round trips of faults that happened before the page opened', async () => {
    const { store } = await opened();
    expect(store.rowCount).toBe(4);
    expect(store.latency.total).toBe(1);
    expect(store.latency.bins()).toEqual([[binLowerBound(6000), 1]]);
  });

  it('lets live events in after the history, each once, into the table and the histogram', async () => {
    const { store, socket } = await opened();
    socket.deliver({
      type: 'events',
      dropped: 0,
      events: [
        HISTORY[3]!,
        event(5, 7000, { kind: 'pri.page-request', request: 2, flow: 8 }),
        event(6, 7500, { kind: 'fault.group', group: 2, requests: [2], flows: [8] }),
        event(7, 9000, { kind: 'fault.response', group: 2, request: 2, flows: [8] }),
      ],
    });
    expect(store.rowCount).toBe(7);
    expect(store.latency.total).toBe(2);
  });

  it('re-reads the history through a new filter, so the table holds only what it lets through', async () => {
    const { store, socket } = await opened();
    store.subscribe({ kinds: ['fault.response', 'dma.page'] });
    await settle();
    expect(socket.sent.at(-1)).toEqual({
      type: 'subscribe',
      filter: { kinds: ['fault.response', 'dma.page'] },
      encoding: 'tuples',
    });
    expect(reads.map((read) => read.after)).toEqual([-1, -1]);
    expect(store.rowCount).toBe(2);
    expect([store.row(0)!.kind, store.row(1)!.kind]).toEqual(['fault.response', 'dma.page']);
    // A live event sent under the old filter, before the server read the new one, stays out.
    socket.deliver({
      type: 'events',
      dropped: 0,
      events: [event(5, 7000, { kind: 'fault.group', group: 2 })],
    });
    expect(store.rowCount).toBe(2);
  });

  it('counts the rows of the selected flow once, then only the new rows of each batch', async () => {
    const { store, socket } = await opened();
    const request = store.row(3)!;
    expect(request.kind).toBe('pri.page-request');
    store.select(request);
    expect(store.relatedCount).toBe(2);
    expect(store.inSelectedFlow(store.row(0)!)).toBe(true);
    expect(store.inSelectedFlow(store.row(2)!)).toBe(false);
    socket.deliver({
      type: 'events',
      dropped: 0,
      events: [event(5, 7000, { kind: 'dma.retried', flows: [7] }), event(6, 7100, { kind: 'dma.page' })],
    });
    expect(store.relatedCount).toBe(3);
    store.select(null);
    expect(store.relatedCount).toBe(0);
  });

  it('asks for the compact encoding, and its batches give the same rows as the same events in JSON', async () => {
    const live = [
      event(5, 7000, { kind: 'pri.page-request', request: 2, flow: 8, device: 'nic0', address: '0x7f0000' }),
      event(6, 7500, { kind: 'fault.group', group: 2, requests: [2], flows: [8], device: 'nic0' }),
      event(7, 7600, { kind: 'dma.page', device: 'nic0', pasid: null }),
      event(8, 9000, { kind: 'fault.response', group: 2, request: 2, flows: [8], device: 'nic0' }),
    ];
    const { store: json, socket: jsonSocket } = await opened();
    jsonSocket.deliver({ type: 'events', dropped: 0, events: live });
    const { store: tuples, socket: tuplesSocket } = await opened();
    expect(tuplesSocket.sent[0]).toEqual({ type: 'subscribe', filter: {}, encoding: 'tuples' });
    const encoded = new EventTupleEncoder().encode(live as unknown as EmulatorEvent[], 3);
    expect(JSON.parse(encoded).type).toBe('event-tuples');
    tuplesSocket.deliver(encoded);

    expect(tuples.lastError).toBeNull();
    expect(tuples.rowCount).toBe(8);
    const rows = (store: StreamStore) => Array.from({ length: store.rowCount }, (_, i) => store.row(i));
    expect(rows(tuples)).toEqual(rows(json));
    expect(tuples.latency.total).toBe(json.latency.total);
    expect(tuples.droppedTotal).toBe(3);
  });

  it('says so when a compact batch does not decode, and keeps its rows', async () => {
    const { store, socket } = await opened();
    socket.deliver({ type: 'event-tuples', layouts: [], events: [[0, 1]], dropped: 0 });
    expect(store.lastError).toMatch(/^A stream message could not be read: .*layouts/);
    expect(store.rowCount).toBe(4);
  });
});
