/**
 * The history keeps its events as encoded chunks (event-log.ts, tuple-chunk.ts), and must answer as the
 * ring of objects it replaced did: every event back exactly (same values, same keys in the same order),
 * the same pages for every `after`, limit and filter, across a wrap of the ring and a clear, the same
 * oldestSeq/latestSeq/size; and the stream's cursor gets every event once, in order, each slice a valid
 * `event-tuples` message of at most a chunk's events.
 */
import { type EmulatorEvent, PRESETS, buildSystem } from '@iommu-lab/emulator';
import { EventTuplesMessageSchema, type EventTuplesMessage } from '@iommu-lab/wire';
import { describe, expect, it } from 'vitest';
import { schemaCheck } from '../plugins/schema-check';
import { type EventMatcher, compileFilter, matchAll } from '../stream/event-filter';
import { decodeRows } from '../stream/event-tuples';
import { EventLog } from './event-log';

/**
 * Every preset's workload, run a while (DMA, page requests, groups, responses, stalls, flow records), and a
 * few made up: keys in another order, a key more, text that JSON escapes or UTF-8 writes in several bytes,
 * one event larger than a chunk's working buffer.
 */
function presetEvents(): EmulatorEvent[] {
  const events: EmulatorEvent[] = [];
  for (const preset of PRESETS) {
    const system = buildSystem(preset.config);
    system.onAny((event) => events.push(event));
    if (preset.workload) system.runWorkload(preset.workload);
    system.runUntilIdle(3_000);
  }
  const { seq, ...rest } = events.find((event) => event.kind === 'dma.completed')!;
  const odd = [
    { seq, ...rest },
    { ...rest, seq, device: 'nïc "0" \\ \n 😀 \ud800', extra: [1, { deep: 'x', none: null }] },
    { ...rest, seq, device: 'x'.repeat(300_000) },
  ] as EmulatorEvent[];
  events.splice(events.length >> 1, 0, ...odd);
  // One lab's events have consecutive sequence numbers: renumber the presets' into one run.
  return events.map((event, seq) => ({ ...event, seq }));
}

/** What the history did before: the last `capacity` objects, filtered as they are. */
class ObjectRing {
  kept: EmulatorEvent[] = [];
  constructor(readonly capacity: number) {}
  push(event: EmulatorEvent): void {
    this.kept.push(event);
    if (this.kept.length > this.capacity) this.kept.shift();
  }
  page(after: number, limit: number, match: EventMatcher): EmulatorEvent[] {
    return this.kept.filter((event) => event.seq > after && match(event)).slice(0, limit);
  }
}

const asJson = (events: readonly object[]) => events.map((event) => JSON.stringify(event));
const events = presetEvents();

describe('the compact history answers as the ring of objects did', () => {
  it('gives back every event exactly: values, nulls, nested lists and records, key order', () => {
    expect(new Set(events.map((event) => event.kind)).size).toBeGreaterThanOrEqual(15);
    const history = new EventLog(events.length, 97);
    for (const event of events) history.push(event);
    const all = history.page(-1, Number.POSITIVE_INFINITY);
    expect(all).toStrictEqual(JSON.parse(JSON.stringify(events)));
    expect(asJson(all)).toEqual(asJson(events));
  });

  const filters: [string, EventMatcher][] = [
    ['no filter', matchAll],
    ['kinds', compileFilter({ kinds: ['fault.group', 'fault.response', 'dma.faulted'] })],
    ['device', compileFilter({ devices: ['nic0'] })],
    ['flows', compileFilter({ flowIds: [3, 40] })],
    ['a kind seldom seen', compileFilter({ kinds: ['iommu.added'] })],
  ];

  it.each([
    [1_000, 64],
    [250, 64],
    [100, 1_000],
  ])(
    'the same pages for every after, limit and filter, across wraps (capacity %i, %i events a chunk)',
    (capacity, chunkEvents) => {
      const history = new EventLog(capacity, chunkEvents);
      const ring = new ObjectRing(capacity);
      const expectSame = () => {
        expect([history.size, history.oldestSeq, history.latestSeq]).toEqual(
          ring.kept.length === 0 ? [0, -1, -1] : [ring.kept.length, ring.kept[0]!.seq, ring.kept.at(-1)!.seq],
        );
        const { oldestSeq, latestSeq } = history;
        for (const [, match] of filters)
          for (const after of [-1, oldestSeq - 5, oldestSeq, oldestSeq + 63, latestSeq - 70, latestSeq])
            for (const limit of [1, 10, 100, Number.POSITIVE_INFINITY])
              expect(asJson(history.page(after, limit, match))).toEqual(
                asJson(ring.page(after, limit, match)),
              );
      };
      // Checked mid-chunk, at a chunk's end and after several wraps.
      for (const [index, event] of events.slice(0, 4 * capacity + 37).entries()) {
        history.push(event);
        ring.push(event);
        if (index % 331 === 0 || index === capacity - 1) expectSame();
      }
      expectSame();
      history.clear();
      ring.kept = [];
      expectSame();
      // After a clear (a lab's reset) the system counts from 0 again.
      for (const event of events.slice(0, 150)) {
        history.push(event);
        ring.push(event);
      }
      expectSame();
    },
  );
});

describe("the stream's cursor reads the same rows", () => {
  const messageProblem = schemaCheck(EventTuplesMessageSchema);

  it('every event once, in order, through clears, each slice a valid message of at most a chunk', () => {
    const chunkEvents = 128;
    const history = new EventLog(300, chunkEvents);
    const cursor = history.cursor();
    const received: EmulatorEvent[] = [];
    const take = () => {
      for (const slice of cursor.take()) {
        const message = JSON.parse(slice.message().toString()) as EventTuplesMessage;
        expect(messageProblem(message)).toBeNull();
        expect(message.dropped).toBe(0);
        expect(message.events.length).toBe(slice.count);
        expect(slice.count).toBeLessThanOrEqual(chunkEvents);
        const decoded = decodeRows(message.layouts, message.events);
        expect(asJson(slice.events())).toEqual(asJson(decoded));
        received.push(...decoded);
      }
    };
    // Takes at uneven points: mid-chunk, several chunks at once (more than the history keeps), none at all.
    let pushed = 0;
    for (const step of [1, 5, 127, 1, 0, 600, 64, 64, 999, 3]) {
      for (const event of events.slice(pushed, pushed + step)) history.push(event);
      pushed += step;
      take();
      if (step === 600) history.clear();
    }
    expect(asJson(received)).toEqual(asJson(events.slice(0, pushed)));
  });
});
