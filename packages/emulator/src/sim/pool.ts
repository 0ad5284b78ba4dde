/**
 * Storage the hot paths reuse instead of allocating, so that a fault allocates nothing once the lab is
 * warm (issue 13): a free list of objects of one kind, and a table that hands an object to a scheduled
 * action as a number (the scheduler's actions take one numeric argument, scheduler.ts).
 *
 * An object taken from a pool is set up whole by its owner before use, so nothing of its previous life
 * shows; releasing one twice throws, because two owners of one object would mix two faults' state.
 */

/** An object a pool can hold: `free` is true while it sits in the pool. */
export interface Pooled {
  free: boolean;
}

export class Pool<T extends Pooled> {
  private readonly idle: T[] = [];
  private made = 0;

  constructor(
    readonly name: string,
    private readonly make: () => T,
  ) {}

  acquire(): T {
    let item = this.idle.pop();
    if (item === undefined) {
      item = this.make();
      this.made++;
    }
    item.free = false;
    return item;
  }

  release(item: T): void {
    if (item.free) throw new Error(`${this.name}: an object was released twice`);
    item.free = true;
    this.idle.push(item);
  }

  /** Objects made so far: the most ever in use at once. */
  get size(): number {
    return this.made;
  }

  /** Objects in use now (made and not released). */
  get inUse(): number {
    return this.made - this.idle.length;
  }
}

/** Objects waiting for a scheduled action, each under a slot number the action gets as its argument. */
export class SlotTable<T> {
  private readonly items: (T | undefined)[] = [];
  private readonly freeSlots: number[] = [];

  /** Holds `item` until `take(slot)`; returns the slot. */
  put(item: T): number {
    const slot = this.freeSlots.length > 0 ? this.freeSlots.pop()! : this.items.length;
    this.items[slot] = item;
    return slot;
  }

  /** The item put under `slot`; the slot is free again. */
  take(slot: number): T {
    const item = this.items[slot];
    if (item === undefined) throw new Error(`slot ${slot} holds nothing`);
    this.items[slot] = undefined;
    this.freeSlots.push(slot);
    return item;
  }

  /** Items held now. */
  get held(): number {
    return this.items.length - this.freeSlots.length;
  }
}

/** What a list's readers need: its size and its items by index. */
export interface ReadonlyList<T> {
  readonly size: number;
  at(index: number): T;
}

/** A list of the items given, for callers off the hot paths. */
export function listOf<T>(...items: T[]): ReadonlyList<T> {
  return { size: items.length, at: (index) => items[index]! };
}

/**
 * A list that keeps its storage when emptied, for pooled objects that hold a varying number of things:
 * V8 frees an array's storage when its length is set to 0, so an emptied array allocates again on its
 * next push. Read it by index (`at`, `size`); `toArray` copies it, for events.
 */
export class ReusableList<T> implements ReadonlyList<T> {
  private readonly items: (T | null)[] = [];
  size = 0;

  push(item: T): void {
    this.items[this.size++] = item;
  }

  at(index: number): T {
    return this.items[index]!;
  }

  get last(): T {
    return this.items[this.size - 1]!;
  }

  /** Empties it, letting go of what it held, keeping its storage. */
  clear(): void {
    for (let i = 0; i < this.size; i++) this.items[i] = null;
    this.size = 0;
  }

  toArray(): T[] {
    return this.items.slice(0, this.size) as T[];
  }
}
