import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from './physical-memory';
import { refusal } from '../testing/refusal';

/** Everything observable about a memory: use counts, refcounts, pins and written bytes of every frame. */
function picture(memory: PhysicalMemory): string {
  const frames = [];
  for (let pfn = 0; pfn < memory.frames; pfn++) {
    const bytes = memory.snapshot(pfn);
    frames.push([memory.refcount(pfn), memory.pinCount(pfn), bytes ? Array.from(bytes).join(',') : null]);
  }
  return JSON.stringify({ used: memory.framesUsed, free: memory.framesFree, frames });
}

function expectRefused(memory: PhysicalMemory, call: () => unknown, code: string, reason?: string): void {
  const before = picture(memory);
  const error = refusal(call);
  expect(error.code).toBe(code);
  if (reason !== undefined) expect(error.reason).toBe(reason);
  expect(picture(memory)).toBe(before);
}

function readBytes(memory: PhysicalMemory, pfn: number, offset: number, length: number): number[] {
  const into = new Uint8Array(length);
  memory.read(pfn, offset, length, into, 0);
  return [...into];
}

describe('physical memory: allocation', () => {
  it('allocates the lowest free frames first on a fresh memory, each with a reference count of 1', () => {
    const memory = new PhysicalMemory(64);
    expect([memory.allocate(), memory.allocate(), memory.allocate()]).toEqual([0, 1, 2]);
    expect([memory.refcount(0), memory.refcount(1), memory.refcount(2), memory.refcount(3)]).toEqual([
      1, 1, 1, 0,
    ]);
    expect(memory.framesUsed).toBe(3);
    expect(memory.framesFree).toBe(61);
  });

  it('is deterministic: the same sequence of calls gives the same frames', () => {
    const run = () => {
      const memory = new PhysicalMemory(32);
      const got: (number | undefined)[] = [];
      for (let i = 0; i < 10; i++) got.push(memory.allocate());
      memory.put(3);
      memory.put(7);
      memory.get(20);
      for (let i = 0; i < 25; i++) got.push(memory.allocate());
      got.push(memory.allocateContiguous(2, 2));
      return got;
    };
    const first = run();
    expect(run()).toEqual(first);
    // 10 + 23 frames handed out (32 frames, 2 freed, 1 taken by get), then memory is exhausted.
    expect(first.filter((pfn) => pfn !== undefined)).toHaveLength(33);
    expect(first.slice(-3)).toEqual([undefined, undefined, undefined]);
  });

  it('searches first-fit from where the last search stopped, wrapping around to frames freed before it', () => {
    const memory = new PhysicalMemory(16);
    for (let i = 0; i < 4; i++) memory.allocate();
    memory.put(1);
    // The search goes on from frame 4; frame 1 is reused only after the cursor wraps.
    expect(memory.allocate()).toBe(4);
    for (let pfn = 5; pfn < 16; pfn++) expect(memory.allocate()).toBe(pfn);
    expect(memory.allocate()).toBe(1);
    expect(memory.allocate()).toBeUndefined();
  });

  it('skips frames taken with get() and returns undefined when memory is exhausted, changing nothing', () => {
    const memory = new PhysicalMemory(16);
    memory.get(0);
    memory.get(2);
    expect(memory.allocate()).toBe(1);
    expect(memory.allocate()).toBe(3);
    while (memory.framesFree > 0) memory.allocate();
    const before = picture(memory);
    expect(memory.allocate()).toBeUndefined();
    expect(memory.allocateContiguous(2)).toBeUndefined();
    expect(picture(memory)).toBe(before);
    memory.put(9);
    expect(memory.allocate()).toBe(9);
  });

  it('allocates contiguous runs aligned as asked, skipping windows with a used frame', () => {
    const memory = new PhysicalMemory(64);
    memory.allocate(); // frame 0
    expect(memory.allocateContiguous(4, 4)).toBe(4);
    memory.get(9);
    // 8..11 holds the used frame 9: the next aligned window is 12.
    expect(memory.allocateContiguous(4, 4)).toBe(12);
    // Unaligned: the first run of 3 free frames is 1..3.
    expect(memory.allocateContiguous(3, 1)).toBe(1);
    for (const pfn of [1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15]) expect(memory.refcount(pfn)).toBe(1);
    expect(memory.refcount(8)).toBe(0);
    expect(memory.framesUsed).toBe(1 + 4 + 1 + 4 + 3);
  });

  it('allocates a 2 MiB-aligned run of 512 frames', () => {
    const memory = new PhysicalMemory(4096);
    memory.allocate();
    const base = memory.allocateContiguous(512, 512)!;
    expect(base).toBe(512);
    for (let i = 0; i < 512; i++) expect(memory.refcount(base + i)).toBe(1);
    expect(memory.refcount(base + 512)).toBe(0);
    expect(memory.framesUsed).toBe(513);
  });

  it('returns undefined, changing nothing, when no run fits though enough frames are free', () => {
    const memory = new PhysicalMemory(16);
    for (let pfn = 0; pfn < 16; pfn += 2) memory.get(pfn); // every other frame used: 8 free, none adjacent
    const before = picture(memory);
    expect(memory.allocateContiguous(2, 1)).toBeUndefined();
    expect(memory.allocateContiguous(17, 1)).toBeUndefined();
    expect(picture(memory)).toBe(before);
  });
});

describe('physical memory: reference counts and pins', () => {
  it('get() and put() count references; the frame is free only when the last one goes', () => {
    const memory = new PhysicalMemory(16);
    const pfn = memory.allocate()!;
    memory.get(pfn);
    memory.get(pfn);
    expect(memory.refcount(pfn)).toBe(3);
    memory.put(pfn);
    memory.put(pfn);
    expect(memory.refcount(pfn)).toBe(1);
    expect(memory.framesUsed).toBe(1);
    memory.put(pfn);
    expect(memory.refcount(pfn)).toBe(0);
    expect(memory.framesUsed).toBe(0);
    expect(memory.framesFree).toBe(16);
  });

  it('get() on a free frame takes it (a mapping of an explicit physical address)', () => {
    const memory = new PhysicalMemory(16);
    memory.get(5);
    expect(memory.refcount(5)).toBe(1);
    expect(memory.framesUsed).toBe(1);
  });

  it('forgets the contents of a frame when its last reference goes; a reused frame reads as zeros', () => {
    const memory = new PhysicalMemory(16);
    const pfn = memory.allocate()!;
    memory.get(pfn);
    memory.write(pfn, 100, new Uint8Array([1, 2, 3]));
    memory.put(pfn);
    expect(memory.snapshot(pfn)![101]).toBe(2);
    expect(readBytes(memory, pfn, 100, 3)).toEqual([1, 2, 3]);
    memory.put(pfn);
    expect(memory.snapshot(pfn)).toBeUndefined();
    memory.get(pfn);
    expect(readBytes(memory, pfn, 100, 3)).toEqual([0, 0, 0]);
  });

  it('refuses to free a frame that is already free with EINVAL (reason double-free), changing nothing', () => {
    const memory = new PhysicalMemory(16);
    const pfn = memory.allocate()!;
    memory.allocate();
    memory.put(pfn);
    expectRefused(memory, () => memory.put(pfn), 'EINVAL', 'double-free');
    expectRefused(memory, () => memory.put(10), 'EINVAL', 'double-free');
  });

  it('counts pins separately from references, and frees drop the pins', () => {
    const memory = new PhysicalMemory(16);
    const pfn = memory.allocate()!;
    memory.pin(pfn);
    memory.pin(pfn);
    expect(memory.pinCount(pfn)).toBe(2);
    expect(memory.refcount(pfn)).toBe(1);
    memory.unpin(pfn);
    expect(memory.pinCount(pfn)).toBe(1);
    memory.put(pfn);
    expect(memory.pinCount(pfn)).toBe(0);
  });

  it('refuses to unpin a frame that is not pinned with EINVAL (reason not-pinned), changing nothing', () => {
    const memory = new PhysicalMemory(16);
    const pfn = memory.allocate()!;
    memory.pin(pfn);
    memory.unpin(pfn);
    expectRefused(memory, () => memory.unpin(pfn), 'EINVAL', 'not-pinned');
  });
});

describe('physical memory: contents', () => {
  it('reads back written bytes at the start, middle and end of a frame', () => {
    const memory = new PhysicalMemory(16);
    const pfn = memory.allocate()!;
    memory.write(pfn, 0, new Uint8Array([0xaa, 0xbb]));
    memory.write(pfn, 2048, new Uint8Array([1, 2, 3, 4]));
    memory.write(pfn, 4090, new Uint8Array([9, 8, 7, 6, 5, 4]));
    expect(readBytes(memory, pfn, 0, 3)).toEqual([0xaa, 0xbb, 0]);
    expect(readBytes(memory, pfn, 2047, 6)).toEqual([0, 1, 2, 3, 4, 0]);
    expect(readBytes(memory, pfn, 4090, 6)).toEqual([9, 8, 7, 6, 5, 4]);
    const whole = memory.snapshot(pfn)!;
    expect(whole).toHaveLength(4096);
    expect(whole[4095]).toBe(4);
  });

  it('reads into the destination at the given offset, leaving the rest of it alone', () => {
    const memory = new PhysicalMemory(16);
    const pfn = memory.allocate()!;
    memory.write(pfn, 10, new Uint8Array([5, 6, 7]));
    const into = new Uint8Array(8).fill(0xff);
    memory.read(pfn, 10, 3, into, 2);
    expect([...into]).toEqual([0xff, 0xff, 5, 6, 7, 0xff, 0xff, 0xff]);
  });

  it('later writes overwrite earlier ones only where they overlap', () => {
    const memory = new PhysicalMemory(16);
    const pfn = memory.allocate()!;
    memory.write(pfn, 0, new Uint8Array([1, 1, 1, 1]));
    memory.write(pfn, 2, new Uint8Array([2, 2, 2, 2]));
    expect(readBytes(memory, pfn, 0, 7)).toEqual([1, 1, 2, 2, 2, 2, 0]);
  });

  it('keeps the bytes of different frames apart', () => {
    const memory = new PhysicalMemory(16);
    memory.write(3, 0, new Uint8Array([3]));
    memory.write(4, 0, new Uint8Array([4]));
    expect(readBytes(memory, 3, 0, 1)).toEqual([3]);
    expect(readBytes(memory, 4, 0, 1)).toEqual([4]);
  });

  it('reads a frame nobody wrote as zeros, overwriting the destination range, and has no snapshot', () => {
    const memory = new PhysicalMemory(16);
    const pfn = memory.allocate()!;
    const into = new Uint8Array(6).fill(1);
    memory.read(pfn, 100, 4, into, 1);
    expect([...into]).toEqual([1, 0, 0, 0, 0, 1]);
    expect(memory.snapshot(pfn)).toBeUndefined();
  });

  it('refuses a write that crosses the end of the frame with EINVAL, changing nothing', () => {
    const memory = new PhysicalMemory(16);
    const pfn = memory.allocate()!;
    memory.write(pfn, 4094, new Uint8Array([7, 7]));
    expectRefused(memory, () => memory.write(pfn, 4095, new Uint8Array(2)), 'EINVAL');
    expectRefused(memory, () => memory.write(pfn, -1, new Uint8Array(1)), 'EINVAL');
  });

  it('refuses a read that crosses the end of the frame with EINVAL, like a write, leaving the destination alone', () => {
    const memory = new PhysicalMemory(16);
    const written = memory.allocate()!;
    memory.write(written, 4090, new Uint8Array([1, 2, 3, 4, 5, 6]));
    const blank = memory.allocate()!;
    for (const pfn of [written, blank]) {
      const into = new Uint8Array(10).fill(0xee);
      expectRefused(memory, () => memory.read(pfn, 4090, 10, into, 0), 'EINVAL');
      expectRefused(memory, () => memory.read(pfn, -1, 2, into, 0), 'EINVAL');
      expect([...into]).toEqual(new Array(10).fill(0xee));
    }
  });
});

describe('physical memory: refusals of frames and sizes', () => {
  it('refuses frames beyond memory, negative or fractional with ERANGE (reason no-such-frame)', () => {
    const memory = new PhysicalMemory(64);
    memory.allocate();
    const into = new Uint8Array(1);
    for (const pfn of [64, 1000, -1, 1.5, Number.NaN]) {
      expectRefused(memory, () => memory.get(pfn), 'ERANGE', 'no-such-frame');
      expectRefused(memory, () => memory.put(pfn), 'ERANGE', 'no-such-frame');
      expectRefused(memory, () => memory.pin(pfn), 'ERANGE', 'no-such-frame');
      expectRefused(memory, () => memory.unpin(pfn), 'ERANGE', 'no-such-frame');
      expectRefused(memory, () => memory.write(pfn, 0, new Uint8Array(1)), 'ERANGE', 'no-such-frame');
      expectRefused(memory, () => memory.read(pfn, 0, 1, into, 0), 'ERANGE', 'no-such-frame');
    }
    expect(memory.exists(63)).toBe(true);
    expect(memory.exists(64)).toBe(false);
    expect(memory.refcount(64)).toBe(0);
    expect(memory.pinCount(-1)).toBe(0);
  });

  it('refuses memory sizes outside 16 frames .. 2^28 frames with EINVAL (reason bad-memory-size)', () => {
    for (const frames of [0, 15, 2 ** 28 + 1, 16.5, Number.NaN]) {
      expect(() => new PhysicalMemory(frames)).toThrow(
        expect.objectContaining({ code: 'EINVAL', reason: 'bad-memory-size' }),
      );
    }
    expect(new PhysicalMemory(16).frames).toBe(16);
  });
});
