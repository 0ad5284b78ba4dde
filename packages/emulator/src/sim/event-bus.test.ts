import { describe, expect, it } from 'vitest';
import { EventBus } from './event-bus';
import { EVENT_KINDS, type EmulatorEvent } from './events';

describe('typed event bus', () => {
  it('delivers an event only to listeners of its kind', () => {
    const bus = new EventBus(() => 0);
    const exits: string[] = [];
    const created: string[] = [];
    bus.on('process.exit', (event) => exits.push(event.process));
    bus.on('process.created', (event) => created.push(`${event.process}:${event.pid}`));
    bus.emit({ kind: 'process.exit', process: 'a' });
    bus.emit({ kind: 'process.created', process: 'b', pid: 12 });
    bus.emit({ kind: 'iopf.disabled', device: 'd' });
    bus.emit({ kind: 'process.exit', process: 'c' });
    expect(exits).toEqual(['a', 'c']);
    expect(created).toEqual(['b:12']);
  });

  it('delivers to several listeners of one kind, in subscription order', () => {
    const bus = new EventBus(() => 0);
    const order: string[] = [];
    bus.on('iopf.disabled', () => order.push('first'));
    bus.on('iopf.disabled', () => order.push('second'));
    bus.emit({ kind: 'iopf.disabled', device: 'd' });
    expect(order).toEqual(['first', 'second']);
  });

  it('onAny receives every kind, after the listeners of the kind', () => {
    const bus = new EventBus(() => 0);
    const order: string[] = [];
    bus.onAny((event) => order.push(`any:${event.kind}`));
    bus.on('process.exit', () => order.push('kind:process.exit'));
    bus.emit({ kind: 'process.exit', process: 'a' });
    bus.emit({ kind: 'iopf.disabled', device: 'd' });
    expect(order).toEqual(['kind:process.exit', 'any:process.exit', 'any:iopf.disabled']);
  });

  it('stamps increasing sequence numbers across all kinds, counting events nobody listens to', () => {
    const bus = new EventBus(() => 0);
    const seqs: number[] = [];
    bus.emit({ kind: 'iopf.disabled', device: 'unheard' });
    bus.onAny((event) => seqs.push(event.seq));
    bus.emit({ kind: 'process.exit', process: 'a' });
    bus.emit({ kind: 'iopf.disabled', device: 'd' });
    const returned = bus.emit({ kind: 'process.exit', process: 'b' });
    expect(seqs).toEqual([1, 2, 3]);
    expect(returned.seq).toBe(3);
    expect(bus.emitted).toBe(4);
  });

  it('stamps timeNs from the clock at the moment of emitting', () => {
    let now = 5;
    const bus = new EventBus(() => now);
    const seen: EmulatorEvent[] = [];
    bus.onAny((event) => seen.push(event));
    bus.emit({ kind: 'process.exit', process: 'a' });
    now = 9;
    bus.emit({ kind: 'process.exit', process: 'b' });
    now = 1_000_000;
    const last = bus.emit({ kind: 'iopf.disabled', device: 'd' });
    expect(seen.map((event) => event.timeNs)).toEqual([5, 9, 1_000_000]);
    expect(last).toMatchObject({ kind: 'iopf.disabled', device: 'd', seq: 2, timeNs: 1_000_000 });
  });

  it('unsubscribing a kind listener stops its deliveries and leaves the others', () => {
    const bus = new EventBus(() => 0);
    const a: number[] = [];
    const b: number[] = [];
    const stopA = bus.on('process.exit', (event) => a.push(event.seq));
    bus.on('process.exit', (event) => b.push(event.seq));
    bus.emit({ kind: 'process.exit', process: 'x' });
    stopA();
    bus.emit({ kind: 'process.exit', process: 'y' });
    stopA(); // a second call is harmless
    bus.emit({ kind: 'process.exit', process: 'z' });
    expect(a).toEqual([0]);
    expect(b).toEqual([0, 1, 2]);
  });

  it('unsubscribing an onAny listener stops its deliveries', () => {
    const bus = new EventBus(() => 0);
    const seen: string[] = [];
    const stop = bus.onAny((event) => seen.push(event.kind));
    bus.emit({ kind: 'process.exit', process: 'x' });
    stop();
    bus.emit({ kind: 'process.exit', process: 'y' });
    expect(seen).toEqual(['process.exit']);
  });

  it('wants(kind) is true exactly while someone listens to that kind or to all', () => {
    const bus = new EventBus(() => 0);
    for (const kind of EVENT_KINDS) expect(bus.wants(kind)).toBe(false);
    const stopPage = bus.on('dma.page', () => {});
    expect(bus.wants('dma.page')).toBe(true);
    expect(bus.wants('dma.completed')).toBe(false);
    const stopPage2 = bus.on('dma.page', () => {});
    stopPage();
    expect(bus.wants('dma.page')).toBe(true);
    stopPage2();
    expect(bus.wants('dma.page')).toBe(false);
    const stopAll = bus.onAny(() => {});
    for (const kind of EVENT_KINDS) expect(bus.wants(kind)).toBe(true);
    stopAll();
    for (const kind of EVENT_KINDS) expect(bus.wants(kind)).toBe(false);
  });

  it('a listener may unsubscribe itself while the event is delivered', () => {
    const bus = new EventBus(() => 0);
    const seen: number[] = [];
    const stop = bus.on('process.exit', (event) => {
      seen.push(event.seq);
      stop();
    });
    bus.emit({ kind: 'process.exit', process: 'a' });
    bus.emit({ kind: 'process.exit', process: 'b' });
    expect(seen).toEqual([0]);
    expect(bus.wants('process.exit')).toBe(false);
  });

  it('lists every event kind once', () => {
    expect(new Set(EVENT_KINDS).size).toBe(EVENT_KINDS.length);
    expect(EVENT_KINDS).toContain('dma.page');
    expect(EVENT_KINDS).toContain('fault.response');
  });
});
