import { describe, expect, it } from 'vitest';
import { RingBuffer } from './ring-buffer';

describe('RingBuffer', () => {
  it('keeps rows in order until it is full', () => {
    const ring = new RingBuffer<number>(4);
    ring.pushAll([1, 2, 3]);
    expect(ring.size).toBe(3);
    expect(ring.toArray()).toEqual([1, 2, 3]);
    expect(ring.at(0)).toBe(1);
    expect(ring.fromNewest(0)).toBe(3);
    expect(ring.at(3)).toBeUndefined();
  });

  it('forgets the oldest rows past its capacity and counts them', () => {
    const ring = new RingBuffer<number>(3);
    for (let i = 1; i <= 7; i++) ring.push(i);
    expect(ring.toArray()).toEqual([5, 6, 7]);
    expect(ring.fromNewest(2)).toBe(5);
    expect(ring.pushed).toBe(7);
    expect(ring.evicted).toBe(4);
  });

  it('takes a batch larger than itself by keeping its tail', () => {
    const ring = new RingBuffer<number>(50_000);
    const batch = Array.from({ length: 120_000 }, (_, i) => i);
    ring.pushAll(batch);
    expect(ring.size).toBe(50_000);
    expect(ring.at(0)).toBe(70_000);
    expect(ring.fromNewest(0)).toBe(119_999);
    expect(ring.pushed).toBe(120_000);
    expect(ring.evicted).toBe(70_000);
  });

  it('wraps correctly after a clear', () => {
    const ring = new RingBuffer<string>(2);
    ring.pushAll(['a', 'b', 'c']);
    ring.clear();
    expect(ring.size).toBe(0);
    ring.push('d');
    expect(ring.toArray()).toEqual(['d']);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new RingBuffer(0)).toThrow(RangeError);
    expect(() => new RingBuffer(1.5)).toThrow(RangeError);
  });
});
