import { describe, expect, it } from 'vitest';
import { Random } from './random';
import { Scheduler } from './scheduler';
import { refusal } from '../testing/refusal';

/** Records the label of every event that runs, and the clock when it ran. */
function recorder(scheduler: Scheduler) {
  const log: string[] = [];
  const at = (label: string) => () => log.push(`${label}@${scheduler.nowNs}`);
  return { log, at };
}

describe('discrete-event scheduler: ordering', () => {
  it('runs events in time order whatever order they were scheduled in', () => {
    const scheduler = new Scheduler();
    const { log, at } = recorder(scheduler);
    scheduler.schedule(30, at('c'));
    scheduler.schedule(10, at('a'));
    scheduler.schedule(20, at('b'));
    scheduler.schedule(0, at('zero'));
    expect(scheduler.runUntilIdle()).toBe(4);
    expect(log).toEqual(['zero@0', 'a@10', 'b@20', 'c@30']);
    expect(scheduler.nowNs).toBe(30);
    expect(scheduler.eventsRun).toBe(4);
  });

  it('runs events at the same time in the order they were scheduled (stable order)', () => {
    const scheduler = new Scheduler();
    const { log, at } = recorder(scheduler);
    scheduler.schedule(20, at('b1'));
    scheduler.schedule(10, at('a1'));
    scheduler.schedule(20, at('b2'));
    scheduler.schedule(10, at('a2'));
    scheduler.schedule(20, at('b3'));
    scheduler.schedule(10, at('a3'));
    scheduler.runUntilIdle();
    expect(log).toEqual(['a1@10', 'a2@10', 'a3@10', 'b1@20', 'b2@20', 'b3@20']);
  });

  it('keeps scheduling order for many events at one time (heap reshuffles must not reorder them)', () => {
    const scheduler = new Scheduler();
    const order: number[] = [];
    for (let i = 0; i < 300; i++) scheduler.schedule(5, () => order.push(i));
    scheduler.runUntilIdle();
    expect(order).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('an event scheduled by a running event at the current time runs after those already due then', () => {
    const scheduler = new Scheduler();
    const { log, at } = recorder(scheduler);
    scheduler.schedule(10, () => {
      log.push(`first@${scheduler.nowNs}`);
      scheduler.schedule(10, at('spawned'));
      scheduler.after(5, at('later'));
    });
    scheduler.schedule(10, at('second'));
    scheduler.runUntilIdle();
    expect(log).toEqual(['first@10', 'second@10', 'spawned@10', 'later@15']);
  });

  it('passes the numeric argument given at scheduling to the action', () => {
    const scheduler = new Scheduler();
    const seen: number[] = [];
    const action = (arg: number) => seen.push(arg);
    scheduler.schedule(2, action, 42);
    scheduler.schedule(1, action, 7);
    scheduler.schedule(3, action);
    scheduler.runUntilIdle();
    expect(seen).toEqual([7, 42, 0]);
  });

  it('after() schedules relative to the current simulated time', () => {
    const scheduler = new Scheduler();
    const { log, at } = recorder(scheduler);
    scheduler.runUntil(100);
    scheduler.after(25, at('x'));
    expect(scheduler.nextEventTime()).toBe(125);
    scheduler.runUntilIdle();
    expect(log).toEqual(['x@125']);
  });
});

describe('discrete-event scheduler: running', () => {
  it('step runs exactly one event, moves the clock to it, and returns false when idle', () => {
    const scheduler = new Scheduler();
    const { log, at } = recorder(scheduler);
    scheduler.schedule(5, at('a'));
    scheduler.schedule(7, at('b'));
    scheduler.schedule(7, at('c'));
    expect(scheduler.step()).toBe(true);
    expect(log).toEqual(['a@5']);
    expect(scheduler.nowNs).toBe(5);
    expect(scheduler.pending).toBe(2);
    expect(scheduler.eventsRun).toBe(1);
    expect(scheduler.step()).toBe(true);
    expect(log).toEqual(['a@5', 'b@7']);
    expect(scheduler.pending).toBe(1);
    expect(scheduler.step()).toBe(true);
    expect(scheduler.step()).toBe(false);
    expect(log).toEqual(['a@5', 'b@7', 'c@7']);
    expect(scheduler.nowNs).toBe(7);
    expect(scheduler.eventsRun).toBe(3);
  });

  it('step on an empty scheduler does nothing', () => {
    const scheduler = new Scheduler();
    expect(scheduler.step()).toBe(false);
    expect(scheduler.nowNs).toBe(0);
    expect(scheduler.eventsRun).toBe(0);
    expect(scheduler.nextEventTime()).toBeUndefined();
  });

  it('runUntilIdle without a limit runs everything, including events scheduled while running', () => {
    const scheduler = new Scheduler();
    let chain = 0;
    const next = () => {
      chain++;
      if (chain < 50) scheduler.after(10, next);
    };
    scheduler.schedule(0, next);
    expect(scheduler.runUntilIdle()).toBe(50);
    expect(chain).toBe(50);
    expect(scheduler.nowNs).toBe(490);
    expect(scheduler.pending).toBe(0);
    expect(scheduler.runUntilIdle()).toBe(0);
  });

  it('runUntilIdle(maxEvents) stops after maxEvents and leaves the rest pending, in order', () => {
    const scheduler = new Scheduler();
    const { log, at } = recorder(scheduler);
    for (let i = 0; i < 10; i++) scheduler.schedule(i * 10, at(`e${i}`));
    expect(scheduler.runUntilIdle(4)).toBe(4);
    expect(log).toEqual(['e0@0', 'e1@10', 'e2@20', 'e3@30']);
    expect(scheduler.pending).toBe(6);
    expect(scheduler.nowNs).toBe(30);
    expect(scheduler.nextEventTime()).toBe(40);
    expect(scheduler.runUntilIdle(100)).toBe(6);
    expect(log).toHaveLength(10);
    expect(scheduler.runUntilIdle(0)).toBe(0);
  });

  it('runUntil(t) runs the events due at or before t, then moves the clock to t; later events stay pending', () => {
    const scheduler = new Scheduler();
    const { log, at } = recorder(scheduler);
    for (const t of [10, 20, 20, 21, 30]) scheduler.schedule(t, at(`t${t}`));
    expect(scheduler.runUntil(20)).toBe(3);
    expect(log).toEqual(['t10@10', 't20@20', 't20@20']);
    expect(scheduler.nowNs).toBe(20);
    expect(scheduler.pending).toBe(2);
    expect(scheduler.nextEventTime()).toBe(21);

    // No event between 21 and 25 except the one at 21; the clock still lands exactly on 25.
    expect(scheduler.runUntil(25)).toBe(1);
    expect(scheduler.nowNs).toBe(25);
    expect(scheduler.pending).toBe(1);

    // Nothing due before 29: the clock moves, nothing runs.
    expect(scheduler.runUntil(29)).toBe(0);
    expect(scheduler.nowNs).toBe(29);
    expect(log).toEqual(['t10@10', 't20@20', 't20@20', 't21@21']);
    expect(scheduler.pending).toBe(1);
  });

  it('runUntil runs events that running events schedule inside the window, but not beyond it', () => {
    const scheduler = new Scheduler();
    const { log, at } = recorder(scheduler);
    scheduler.schedule(10, () => {
      log.push(`parent@${scheduler.nowNs}`);
      scheduler.after(5, at('child-in-window'));
      scheduler.after(50, at('child-after'));
    });
    expect(scheduler.runUntil(40)).toBe(2);
    expect(log).toEqual(['parent@10', 'child-in-window@15']);
    expect(scheduler.nowNs).toBe(40);
    expect(scheduler.nextEventTime()).toBe(60);
  });

  it('runUntil the current time runs the events due now', () => {
    const scheduler = new Scheduler();
    const { log, at } = recorder(scheduler);
    scheduler.schedule(0, at('now'));
    expect(scheduler.runUntil(0)).toBe(1);
    expect(log).toEqual(['now@0']);
  });
});

describe('discrete-event scheduler: cancel', () => {
  it('a cancelled event never runs and no longer counts as pending; the others still run in order', () => {
    const scheduler = new Scheduler();
    const { log, at } = recorder(scheduler);
    scheduler.schedule(10, at('a'));
    const b = scheduler.schedule(20, at('b'));
    scheduler.schedule(30, at('c'));
    scheduler.cancel(b);
    expect(scheduler.pending).toBe(2);
    expect(scheduler.runUntilIdle()).toBe(2);
    expect(log).toEqual(['a@10', 'c@30']);
    expect(scheduler.pending).toBe(0);
    expect(scheduler.eventsRun).toBe(2);
  });

  it('cancelling the next event moves nextEventTime to the one after it', () => {
    const scheduler = new Scheduler();
    const first = scheduler.schedule(10, () => {});
    scheduler.schedule(20, () => {});
    scheduler.cancel(first);
    expect(scheduler.nextEventTime()).toBe(20);
    expect(scheduler.step()).toBe(true);
    expect(scheduler.nowNs).toBe(20);
  });

  it('cancelling every event leaves the scheduler idle, and runUntil still moves the clock', () => {
    const scheduler = new Scheduler();
    let ran = 0;
    const handles = [5, 6, 7].map((t) => scheduler.schedule(t, () => ran++));
    for (const handle of handles) scheduler.cancel(handle);
    expect(scheduler.pending).toBe(0);
    expect(scheduler.nextEventTime()).toBeUndefined();
    expect(scheduler.runUntil(100)).toBe(0);
    expect(ran).toBe(0);
    expect(scheduler.nowNs).toBe(100);
  });

  it('cancelling the same event twice counts it once', () => {
    const scheduler = new Scheduler();
    const handle = scheduler.schedule(10, () => {});
    scheduler.schedule(20, () => {});
    scheduler.cancel(handle);
    scheduler.cancel(handle);
    expect(scheduler.pending).toBe(1);
  });

  it('cancelling an event that already ran changes nothing (pending stays right)', () => {
    const scheduler = new Scheduler();
    const { log, at } = recorder(scheduler);
    const done = scheduler.schedule(10, at('done'));
    scheduler.schedule(20, at('waiting'));
    scheduler.step();
    scheduler.cancel(done);
    expect(scheduler.pending).toBe(1);
    expect(scheduler.runUntilIdle()).toBe(1);
    expect(log).toEqual(['done@10', 'waiting@20']);
    expect(scheduler.pending).toBe(0);
  });

  it('an event that cancels itself while running (a timeout answering its own group) changes nothing', () => {
    const scheduler = new Scheduler();
    let self = -1;
    self = scheduler.schedule(10, () => scheduler.cancel(self));
    scheduler.schedule(20, () => {});
    scheduler.step();
    expect(scheduler.pending).toBe(1);
    scheduler.runUntilIdle();
    expect(scheduler.pending).toBe(0);
  });

  it('cancelling a handle that was never issued is ignored', () => {
    const scheduler = new Scheduler();
    scheduler.schedule(10, () => {});
    scheduler.cancel(12345);
    expect(scheduler.pending).toBe(1);
    expect(scheduler.runUntilIdle()).toBe(1);
  });
});

describe('discrete-event scheduler: refusals', () => {
  it('refuses to schedule in the past with EINVAL (reason past), changing nothing', () => {
    const scheduler = new Scheduler();
    scheduler.schedule(100, () => {});
    scheduler.runUntilIdle();
    scheduler.schedule(150, () => {});
    const error = refusal(() => scheduler.schedule(50, () => {}));
    expect(error).toMatchObject({ code: 'EINVAL', reason: 'past' });
    expect(error.errno).toBe(-22);
    expect(scheduler.pending).toBe(1);
    expect(scheduler.nowNs).toBe(100);
    expect(scheduler.nextEventTime()).toBe(150);
  });

  it('refuses a negative delay, NaN and infinite times with EINVAL', () => {
    const scheduler = new Scheduler();
    scheduler.runUntil(10);
    for (const call of [
      () => scheduler.after(-1, () => {}),
      () => scheduler.schedule(Number.NaN, () => {}),
      () => scheduler.schedule(Number.POSITIVE_INFINITY, () => {}),
    ]) {
      expect(refusal(call)).toMatchObject({ code: 'EINVAL', reason: 'past' });
    }
    expect(scheduler.pending).toBe(0);
    expect(scheduler.nowNs).toBe(10);
  });

  it('refuses runUntil a time in the past with EINVAL, running nothing', () => {
    const scheduler = new Scheduler();
    let ran = 0;
    scheduler.runUntil(50);
    scheduler.schedule(60, () => ran++);
    expect(refusal(() => scheduler.runUntil(10))).toMatchObject({ code: 'EINVAL', reason: 'past' });
    expect(ran).toBe(0);
    expect(scheduler.nowNs).toBe(50);
    expect(scheduler.pending).toBe(1);
  });
});

describe('discrete-event scheduler: randomized schedule', () => {
  it('pops thousands of seeded random events in non-decreasing (time, seq) order, cancelled ones excluded', () => {
    const scheduler = new Scheduler();
    const random = new Random(20240611);
    const popped: { time: number; seq: number; ranAt: number }[] = [];
    const cancelled = new Set<number>();
    const handles: number[] = [];
    const total = 6000;
    for (let seq = 0; seq < total; seq++) {
      // Small time range so many events share a time and the tie-break is exercised.
      const time = scheduler.nowNs + random.int(0, 300);
      const handle = scheduler.schedule(time, () => popped.push({ time, seq, ranAt: scheduler.nowNs }));
      handles.push(handle);
      // Interleave pops with pushes, and cancel some still-pending events.
      if (random.chance(0.15)) scheduler.step();
      if (random.chance(0.05)) {
        const victim = random.int(0, handles.length - 1);
        if (!popped.some((p) => p.seq === victim)) {
          scheduler.cancel(handles[victim]!);
          cancelled.add(victim);
        }
      }
    }
    scheduler.runUntilIdle();
    expect(cancelled.size).toBeGreaterThan(100);
    expect(popped).toHaveLength(total - cancelled.size);
    expect(scheduler.eventsRun).toBe(total - cancelled.size);
    expect(scheduler.pending).toBe(0);
    for (const p of popped) {
      expect(cancelled.has(p.seq)).toBe(false);
      expect(p.ranAt).toBe(p.time);
    }
    let ties = 0;
    for (let i = 1; i < popped.length; i++) {
      const a = popped[i - 1]!;
      const b = popped[i]!;
      expect(b.time).toBeGreaterThanOrEqual(a.time);
      if (b.time === a.time) {
        ties++;
        expect(b.seq).toBeGreaterThan(a.seq);
      }
    }
    expect(ties).toBeGreaterThan(1000);
  });

  it('gives the same order for the same seed (determinism)', () => {
    const run = (seed: number) => {
      const scheduler = new Scheduler();
      const random = new Random(seed);
      const order: number[] = [];
      for (let i = 0; i < 2000; i++) scheduler.schedule(random.int(0, 100), () => order.push(i));
      scheduler.runUntilIdle();
      return order;
    };
    expect(run(9)).toEqual(run(9));
    expect(run(9)).not.toEqual(run(10));
  });
});
