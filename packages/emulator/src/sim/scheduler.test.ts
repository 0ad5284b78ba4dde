import { describe, expect, it } from 'vitest';
import { Random } from './random';
import { Scheduler } from './scheduler';

describe('discrete-event scheduler', () => {
  it('runs events in time order, and events at equal times in the order they were scheduled', () => {
    const scheduler = new Scheduler();
    const order: string[] = [];
    scheduler.schedule(20, () => order.push('b@20'));
    scheduler.schedule(10, () => order.push('a@10'));
    scheduler.schedule(20, () => order.push('c@20'));
    scheduler.schedule(10, () => order.push('d@10'));
    scheduler.runUntilIdle();
    expect(order).toEqual(['a@10', 'd@10', 'b@20', 'c@20']);
    expect(scheduler.nowNs).toBe(20);
  });

  it('step runs exactly one event and reports idleness', () => {
    const scheduler = new Scheduler();
    let ran = 0;
    scheduler.schedule(5, () => ran++);
    scheduler.schedule(7, () => ran++);
    expect(scheduler.step()).toBe(true);
    expect(ran).toBe(1);
    expect(scheduler.nowNs).toBe(5);
    expect(scheduler.pending).toBe(1);
    expect(scheduler.step()).toBe(true);
    expect(scheduler.step()).toBe(false);
    expect(ran).toBe(2);
  });

  it('runUntil runs what is due at or before the time, then moves the clock there', () => {
    const scheduler = new Scheduler();
    const seen: number[] = [];
    for (const t of [10, 20, 30]) scheduler.schedule(t, () => seen.push(t));
    expect(scheduler.runUntil(20)).toBe(2);
    expect(seen).toEqual([10, 20]);
    expect(scheduler.nowNs).toBe(20);
    scheduler.runUntil(25);
    expect(scheduler.nowNs).toBe(25);
    expect(scheduler.pending).toBe(1);
  });

  it('runUntilIdle stops after maxEvents', () => {
    const scheduler = new Scheduler();
    for (let i = 0; i < 10; i++) scheduler.schedule(i, () => {});
    expect(scheduler.runUntilIdle(4)).toBe(4);
    expect(scheduler.pending).toBe(6);
  });

  it('a cancelled event never runs', () => {
    const scheduler = new Scheduler();
    let ran = false;
    const handle = scheduler.schedule(10, () => (ran = true));
    scheduler.cancel(handle);
    expect(scheduler.pending).toBe(0);
    scheduler.runUntilIdle();
    expect(ran).toBe(false);
  });

  it('refuses to schedule in the past with EINVAL', () => {
    const scheduler = new Scheduler();
    scheduler.schedule(100, () => {});
    scheduler.runUntilIdle();
    expect(() => scheduler.schedule(50, () => {})).toThrow(
      expect.objectContaining({ code: 'EINVAL', reason: 'past' }),
    );
    expect(() => scheduler.runUntil(10)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(scheduler.pending).toBe(0);
  });

  it('pops thousands of randomly scheduled events in (time, sequence) order', () => {
    const scheduler = new Scheduler();
    const random = new Random(42);
    const popped: [number, number][] = [];
    for (let seq = 0; seq < 5000; seq++) {
      const time = scheduler.nowNs + random.int(0, 500);
      scheduler.schedule(time, () => popped.push([time, seq]));
      if (seq % 7 === 0) scheduler.step(); // interleave pops with pushes
    }
    scheduler.runUntilIdle();
    expect(popped).toHaveLength(5000);
    for (let i = 1; i < popped.length; i++) {
      const [t0, s0] = popped[i - 1]!;
      const [t1, s1] = popped[i]!;
      // Time never goes back; at equal times the one scheduled first runs first.
      expect(t1).toBeGreaterThanOrEqual(t0);
      if (t1 === t0) expect(s1).toBeGreaterThan(s0);
    }
    expect(scheduler.eventsRun).toBe(5000);
  });
});
