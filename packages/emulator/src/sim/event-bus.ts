/**
 * Typed event bus. Every event gets a sequence number and the simulated time it happened at; listeners
 * subscribe to one kind or to all. Emitters of high-volume kinds ask `wants(kind)` first, so an event
 * nobody listens to is never built.
 */
import type { EmulatorEvent, EventKind, EventOf, EventInput } from './events';

export type Listener<K extends EventKind> = (event: EventOf<K>) => void;
export type AnyListener = (event: EmulatorEvent) => void;

export class EventBus {
  private readonly byKind = new Map<EventKind, Set<(event: EmulatorEvent) => void>>();
  private readonly all = new Set<AnyListener>();
  private nextSeq = 0;

  constructor(private readonly clock: () => number) {}

  /** Number of events emitted so far (the next event's sequence number). */
  get emitted(): number {
    return this.nextSeq;
  }

  /** Simulated time now, for state that records when it changed. */
  get nowNs(): number {
    return this.clock();
  }

  wants(kind: EventKind): boolean {
    return this.all.size > 0 || (this.byKind.get(kind)?.size ?? 0) > 0;
  }

  /** Stamps the event with its sequence number and time, then hands it to the listeners. */
  emit<K extends EventKind>(input: EventInput<K>): EventOf<K> {
    const event = input as unknown as EventOf<K> & EmulatorEvent;
    event.seq = this.nextSeq++;
    event.timeNs = this.clock();
    const listeners = this.byKind.get(input.kind);
    if (listeners) for (const listener of listeners) listener(event);
    for (const listener of this.all) listener(event);
    return event;
  }

  on<K extends EventKind>(kind: K, listener: Listener<K>): () => void {
    let set = this.byKind.get(kind);
    if (!set) this.byKind.set(kind, (set = new Set()));
    const entry = listener as unknown as (event: EmulatorEvent) => void;
    set.add(entry);
    return () => set.delete(entry);
  }

  onAny(listener: AnyListener): () => void {
    this.all.add(listener);
    return () => this.all.delete(listener);
  }
}
