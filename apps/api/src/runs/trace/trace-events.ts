/**
 * The Chrome trace-event JSON records the trace is made of, as Perfetto's JSON importer reads them
 * (src/trace_processor/importers/json in Perfetto): async slices `b` / `e` / `n` on a track keyed by
 * (process, cat, id2.local) and named after the track's first slice; flows bound to those slices through
 * `bind_id` with `flow_out` / `flow_in` (Perfetto binds `s` / `t` / `f` flow events to thread tracks only,
 * so they cannot reach an async slice); counters `C`; instants `i` on thread tracks; metadata `M`.
 */
export interface TraceEvent {
  name: string;
  ph: 'b' | 'e' | 'n' | 'i' | 'C' | 'M';
  /** Simulated µs (fractional: the emulator counts ns). */
  ts?: number;
  pid: number;
  tid: number;
  cat?: string;
  /** Async tracks are scoped to their process (a device or an IOMMU). */
  id2?: { local: string };
  /** Instants: on their thread's track. */
  s?: 't';
  /** A flow (causal link) through the slice this event begins. */
  bind_id?: number;
  flow_in?: true;
  flow_out?: true;
  args?: Record<string, unknown>;
}

export const ns = (timeNs: number): number => timeNs / 1000;

/**
 * One async track: the slices of one transaction, fault flow or group, begun and ended in nesting order
 * (a child begins after its parent and ends before it), which the final sort by time keeps.
 */
export class AsyncTrack {
  readonly events: TraceEvent[] = [];
  private readonly id2: { local: string };

  constructor(
    private readonly pid: number,
    private readonly cat: string,
    local: string,
  ) {
    this.id2 = { local };
  }

  begin(name: string, atNs: number, args?: Record<string, unknown>): TraceEvent {
    return this.push('b', name, atNs, args);
  }

  end(name: string, atNs: number): void {
    this.push('e', name, atNs);
  }

  /** A child slice [startNs, endNs] of the slice open now. */
  child(name: string, startNs: number, endNs: number, args?: Record<string, unknown>): TraceEvent {
    const event = this.begin(name, startNs, args);
    this.end(name, endNs);
    return event;
  }

  /** A zero-length mark inside the slice open now (Perfetto: a slice of its own, so a flow can end on it). */
  mark(name: string, atNs: number, args?: Record<string, unknown>): TraceEvent {
    return this.push('n', name, atNs, args);
  }

  /** One event of this track, in its process, category and id scope. */
  private push(ph: 'b' | 'e' | 'n', name: string, atNs: number, args?: Record<string, unknown>): TraceEvent {
    const event: TraceEvent = {
      name,
      ph,
      ts: ns(atNs),
      pid: this.pid,
      tid: this.pid,
      cat: this.cat,
      id2: this.id2,
    };
    if (args) event.args = args;
    this.events.push(event);
    return event;
  }
}
