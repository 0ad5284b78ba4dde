import { describe, expect, it } from 'vitest';
import { EventBus } from './event-bus';

describe('typed event bus', () => {
  it('delivers an event to listeners of its kind and to listeners of every kind, stamped with seq and time', () => {
    let now = 5;
    const bus = new EventBus(() => now);
    const byKind: string[] = [];
    const all: string[] = [];
    bus.on('process.exit', (event) =>
      byKind.push(`${event.kind}:${event.process}:${event.seq}:${event.timeNs}`),
    );
    bus.onAny((event) => all.push(event.kind));
    bus.emit({ kind: 'process.exit', process: 'a' });
    now = 9;
    bus.emit({ kind: 'iopf.disabled', device: 'd' });
    bus.emit({ kind: 'process.exit', process: 'b' });
    expect(byKind).toEqual(['process.exit:a:0:5', 'process.exit:b:2:9']);
    expect(all).toEqual(['process.exit', 'iopf.disabled', 'process.exit']);
    expect(bus.emitted).toBe(3);
  });

  it('stops delivering after unsubscribe, and wants() says whether anyone listens', () => {
    const bus = new EventBus(() => 0);
    expect(bus.wants('dma.page')).toBe(false);
    let count = 0;
    const stop = bus.on('dma.page', () => count++);
    expect(bus.wants('dma.page')).toBe(true);
    expect(bus.wants('dma.completed')).toBe(false);
    stop();
    expect(bus.wants('dma.page')).toBe(false);
    const stopAll = bus.onAny(() => count++);
    expect(bus.wants('dma.completed')).toBe(true);
    stopAll();
    bus.emit({ kind: 'iopf.disabled', device: 'x' });
    expect(count).toBe(0);
  });
});
