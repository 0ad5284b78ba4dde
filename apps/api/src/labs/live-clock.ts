/**
 * A lab's live clock: while running, simulated time advances with wall time at a chosen speed (simulated
 * ns per wall ns), or as fast as the host can go ("max"), so a person watching the stream sees it move.
 * Each tick runs events for a bounded wall time and yields, at any speed, so one busy lab never stalls
 * the server (the stream's fan-out and every request get the loop between ticks); a lab that cannot keep
 * up drops its debt instead of running ever further behind.
 */
import type { System } from '@iommu-lab/emulator';

export type Speed = number | 'max';

/** Wall time one tick may take, so the stream and requests get the loop between ticks. */
const MAX_TICK_MS = 8;
/** Events between looks at the wall clock within a tick. */
const MAX_SLICE = 1024;
const TICK_MS = 16;

export class LiveClock {
  state: 'paused' | 'running' = 'paused';
  /** Default: one simulated microsecond per wall millisecond. */
  speed: Speed = 1e-3;
  private timer: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | null = null;
  private wallStartMs = 0;
  private simStartNs = 0;

  constructor(
    private readonly system: () => System,
    private readonly afterTick: () => void = () => {},
  ) {}

  run(speed: Speed = this.speed): void {
    this.speed = speed;
    this.state = 'running';
    this.rebase();
    this.schedule();
  }

  pause(): void {
    this.state = 'paused';
    this.cancel();
  }

  /** Runs up to `events` events now (the lab is paused); returns how many ran. */
  step(events: number): number {
    const system = this.system();
    let ran = 0;
    while (ran < events && system.step()) ran++;
    this.afterTick();
    return ran;
  }

  private rebase(): void {
    this.wallStartMs = performance.now();
    this.simStartNs = this.system().nowNs;
  }

  private schedule(): void {
    this.cancel();
    if (this.state !== 'running') return;
    const busy = this.speed === 'max' && this.system().pendingEvents > 0;
    this.timer = busy ? setImmediate(() => this.tick()) : setTimeout(() => this.tick(), TICK_MS);
  }

  private tick(): void {
    this.timer = null;
    const system = this.system();
    const until = performance.now() + MAX_TICK_MS;
    if (this.speed === 'max') {
      while (system.runUntilIdle(MAX_SLICE) === MAX_SLICE && performance.now() < until);
    } else {
      // Whole ns, as every simulated time is (events carry integer times).
      const target = Math.floor(this.simStartNs + (performance.now() - this.wallStartMs) * 1e6 * this.speed);
      let behind = false;
      let ran = 0;
      for (
        let next = system.nextEventTime();
        next !== undefined && next <= target;
        next = system.nextEventTime()
      ) {
        system.step();
        if (++ran % MAX_SLICE === 0 && performance.now() >= until) {
          behind = true;
          break;
        }
      }
      if (!behind) system.runUntil(Math.max(system.nowNs, target));
      else this.rebase(); // behind: forget the debt rather than fall further back
    }
    this.afterTick();
    this.schedule();
  }

  private cancel(): void {
    if (this.timer === null) return;
    clearTimeout(this.timer as ReturnType<typeof setTimeout>);
    clearImmediate(this.timer as ReturnType<typeof setImmediate>);
    this.timer = null;
  }
}
