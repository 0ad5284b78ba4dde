import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from './physical-memory';

describe('physical memory in 4 KiB frames', () => {
  it('allocates first-fit and deterministically, with a reference count of 1', () => {
    const memory = new PhysicalMemory(64);
    expect([memory.allocate(), memory.allocate(), memory.allocate()]).toEqual([0, 1, 2]);
    expect(memory.refcount(1)).toBe(1);
    expect(memory.framesUsed).toBe(3);
    expect(memory.framesFree).toBe(61);
  });

  it('frees a frame when its last reference goes, forgetting its contents', () => {
    const memory = new PhysicalMemory(64);
    const pfn = memory.allocate()!;
    memory.get(pfn);
    memory.write(pfn, 100, new Uint8Array([1, 2, 3]));
    memory.put(pfn);
    expect(memory.refcount(pfn)).toBe(1);
    expect(memory.snapshot(pfn)![101]).toBe(2);
    memory.put(pfn);
    expect(memory.refcount(pfn)).toBe(0);
    expect(memory.snapshot(pfn)).toBeUndefined();
    expect(() => memory.put(pfn)).toThrow(expect.objectContaining({ code: 'EINVAL', reason: 'double-free' }));
  });

  it('counts pins separately from references', () => {
    const memory = new PhysicalMemory(64);
    const pfn = memory.allocate()!;
    memory.pin(pfn);
    memory.pin(pfn);
    expect(memory.pinCount(pfn)).toBe(2);
    memory.unpin(pfn);
    memory.unpin(pfn);
    expect(() => memory.unpin(pfn)).toThrow(
      expect.objectContaining({ code: 'EINVAL', reason: 'not-pinned' }),
    );
  });

  it('allocates contiguous runs aligned as asked', () => {
    const memory = new PhysicalMemory(4096);
    memory.allocate();
    const base = memory.allocateContiguous(512, 512)!;
    expect(base % 512).toBe(0);
    expect(base).toBe(512);
    for (let i = 0; i < 512; i++) expect(memory.refcount(base + i)).toBe(1);
    expect(memory.allocateContiguous(8192, 1)).toBeUndefined();
  });

  it('stores written bytes and reads them back at any offset; unwritten frames read as zeros', () => {
    const memory = new PhysicalMemory(64);
    const pfn = memory.allocate()!;
    memory.write(pfn, 4090, new Uint8Array([9, 8, 7, 6, 5, 4]));
    const into = new Uint8Array(8).fill(0xff);
    memory.read(pfn, 4090, 6, into, 1);
    expect([...into]).toEqual([0xff, 9, 8, 7, 6, 5, 4, 0xff]);
    const zeros = new Uint8Array(4).fill(1);
    memory.read(memory.allocate()!, 0, 4, zeros, 0);
    expect([...zeros]).toEqual([0, 0, 0, 0]);
    expect(() => memory.write(pfn, 4095, new Uint8Array(2))).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
  });

  it('refuses frames beyond memory and bad sizes', () => {
    const memory = new PhysicalMemory(64);
    expect(() => memory.get(64)).toThrow(
      expect.objectContaining({ code: 'ERANGE', reason: 'no-such-frame' }),
    );
    expect(() => new PhysicalMemory(3)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});
