import { describe, expect, it } from 'vitest';
import { Pool, ReusableList, SlotTable, listOf } from './pool';

describe('pools, slot tables and reusable lists (the fault path reuses its objects)', () => {
  it('a pool hands a released object out again, and makes a new one only when none is free', () => {
    const pool = new Pool('things', () => ({ free: false, value: 0 }));
    const a = pool.acquire();
    const b = pool.acquire();
    expect(a).not.toBe(b);
    pool.release(a);
    expect(pool.acquire()).toBe(a);
    expect(pool.size).toBe(2);
    expect(pool.inUse).toBe(2);
    pool.release(b);
    expect(pool.inUse).toBe(1);
  });

  it('releasing an object twice throws: two owners would share one fault state', () => {
    const pool = new Pool('things', () => ({ free: false }));
    const a = pool.acquire();
    pool.release(a);
    expect(() => pool.release(a)).toThrow('things: an object was released twice');
  });

  it('a slot table gives back what was put under a slot once, and reuses the slot', () => {
    const table = new SlotTable<string>();
    const first = table.put('a');
    const second = table.put('b');
    expect(table.take(second)).toBe('b');
    expect(() => table.take(second)).toThrow(`slot ${second} holds nothing`);
    expect(table.put('c')).toBe(second);
    expect(table.take(first)).toBe('a');
    expect(table.held).toBe(1);
  });

  it('a reusable list emptied and filled again holds only what was pushed since', () => {
    const list = new ReusableList<number>();
    for (let i = 0; i < 5; i++) list.push(i);
    list.clear();
    list.push(7);
    expect(list.size).toBe(1);
    expect(list.last).toBe(7);
    expect(list.toArray()).toEqual([7]);
    const one = listOf('x');
    expect([one.size, one.at(0)]).toEqual([1, 'x']);
  });
});
