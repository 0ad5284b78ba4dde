/**
 * Discrete-event scheduler: simulated time in nanoseconds, a binary heap ordered by (time, sequence), so
 * events at the same time run in the order they were scheduled. The heap lives in parallel arrays and an
 * action is a pre-bound function plus one numeric argument, so scheduling allocates nothing per event.
 */
import { fail } from '../errors';

export type ScheduledAction = (arg: number) => void;

const NOOP: ScheduledAction = () => {};
const CANCELLED: ScheduledAction = () => {};

/** Handle returned by `schedule`, for `cancel`. */
export type EventHandle = number;

export class Scheduler {
  private times: number[] = [];
  private seqs: number[] = [];
  private actions: ScheduledAction[] = [];
  private args: number[] = [];
  private size = 0;
  private nextSeq = 0;
  /** Cancelled events still in the heap (their action replaced by CANCELLED); skipped when they reach the top. */
  private cancelled = 0;
  private current = 0;
  private executed = 0;
  /** Set by `stop`: the run is over, nothing is scheduled or run any more. */
  private stopped = false;

  /** Simulated time now, in ns. Advances only when an event runs or `runUntil` reaches its target. */
  get nowNs(): number {
    return this.current;
  }

  /** Events waiting to run. */
  get pending(): number {
    return this.size - this.cancelled;
  }

  /** Events run so far. */
  get eventsRun(): number {
    return this.executed;
  }

  schedule(atNs: number, action: ScheduledAction, arg = 0): EventHandle {
    if (!(atNs >= this.current) || !Number.isFinite(atNs)) {
      fail('EINVAL', `cannot schedule at ${atNs} ns: simulated time is already ${this.current} ns.`, {
        reason: 'past',
      });
    }
    const seq = this.nextSeq++;
    if (this.stopped) return seq;
    let i = this.size++;
    // Sift up, moving parents down until the new event's slot is found.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(atNs, seq, parent)) break;
      this.move(parent, i);
      i = parent;
    }
    this.times[i] = atNs;
    this.seqs[i] = seq;
    this.actions[i] = action;
    this.args[i] = arg;
    return seq;
  }

  after(delayNs: number, action: ScheduledAction, arg = 0): EventHandle {
    return this.schedule(this.current + delayNs, action, arg);
  }

  /** Cancels an event that has not run yet; a handle that already ran (or was cancelled) is ignored. */
  cancel(handle: EventHandle): void {
    // A linear search: cancels are rare (timeouts that were answered in time), scheduling is not.
    for (let i = 0; i < this.size; i++) {
      if (this.seqs[i] !== handle) continue;
      if (this.actions[i] !== CANCELLED) {
        this.actions[i] = CANCELLED;
        this.cancelled++;
      }
      return;
    }
  }

  /**
   * Ends the run for good (a livelock, fault/livelock-detector.ts): every waiting event is dropped and
   * nothing scheduled later runs, so `runUntilIdle` returns and a live clock finds nothing to do.
   */
  stop(): void {
    this.stopped = true;
    for (let i = 0; i < this.size; i++) this.actions[i] = NOOP;
    this.size = 0;
    this.cancelled = 0;
  }

  /** Time of the next event that will run, or undefined when idle. */
  nextEventTime(): number | undefined {
    this.dropCancelledTop();
    return this.size > 0 ? this.times[0] : undefined;
  }

  /** Run one event. Returns false when there was none. */
  step(): boolean {
    this.dropCancelledTop();
    if (this.size === 0) return false;
    const time = this.times[0]!;
    const action = this.actions[0]!;
    const arg = this.args[0]!;
    this.popTop();
    this.current = time;
    this.executed++;
    action(arg);
    return true;
  }

  /** Run until no event is left (or `maxEvents` ran). Returns the number of events run. */
  runUntilIdle(maxEvents = Number.POSITIVE_INFINITY): number {
    let ran = 0;
    while (ran < maxEvents && this.step()) ran++;
    return ran;
  }

  /** Run every event due at or before `timeNs`, then move the clock to `timeNs`. */
  runUntil(timeNs: number): number {
    if (!(timeNs >= this.current)) {
      fail('EINVAL', `cannot run until ${timeNs} ns: simulated time is already ${this.current} ns.`, {
        reason: 'past',
      });
    }
    let ran = 0;
    for (let next = this.nextEventTime(); next !== undefined && next <= timeNs; next = this.nextEventTime()) {
      this.step();
      ran++;
    }
    this.current = timeNs;
    return ran;
  }

  private dropCancelledTop(): void {
    while (this.size > 0 && this.actions[0] === CANCELLED) {
      this.popTop();
      this.cancelled--;
    }
  }

  private popTop(): void {
    const last = --this.size;
    if (last > 0) {
      const time = this.times[last]!;
      const seq = this.seqs[last]!;
      const action = this.actions[last]!;
      const arg = this.args[last]!;
      let i = 0;
      // Sift the last element down from the root.
      while (true) {
        const left = 2 * i + 1;
        if (left >= last) break;
        const right = left + 1;
        const child = right < last && this.lessAt(right, left) ? right : left;
        if (!this.lessThan(child, time, seq)) break;
        this.move(child, i);
        i = child;
      }
      this.times[i] = time;
      this.seqs[i] = seq;
      this.actions[i] = action;
      this.args[i] = arg;
    }
    // Drop the vacated slot's reference so a finished action can be collected.
    this.actions[last] = NOOP;
  }

  /** Is (time, seq) ordered before the element at index `at`? */
  private before(time: number, seq: number, at: number): boolean {
    const other = this.times[at]!;
    return time < other || (time === other && seq < this.seqs[at]!);
  }

  private lessThan(at: number, time: number, seq: number): boolean {
    const other = this.times[at]!;
    return other < time || (other === time && this.seqs[at]! < seq);
  }

  private lessAt(a: number, b: number): boolean {
    return this.before(this.times[a]!, this.seqs[a]!, b);
  }

  private move(from: number, to: number): void {
    this.times[to] = this.times[from]!;
    this.seqs[to] = this.seqs[from]!;
    this.actions[to] = this.actions[from]!;
    this.args[to] = this.args[from]!;
  }
}
