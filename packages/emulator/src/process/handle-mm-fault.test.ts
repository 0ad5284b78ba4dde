import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from '../memory/physical-memory';
import { PERM_EXEC, PERM_READ, PERM_WRITE } from '../pagetable/permissions';
import { EventBus } from '../sim/event-bus';
import { Process } from './process';

const BASE = 0x7f0000000; // page number of 0x7f0000000000

function newProcess(frames = 256) {
  const memory = new PhysicalMemory(frames);
  const bus = new EventBus(() => 0);
  const process = new Process('app', 100, memory, bus, 4);
  return { memory, bus, process };
}

describe('demand paging like handle_mm_fault (reference §2, SVA handler)', () => {
  it('allocates a zeroed page for an access the VMA allows (minor), then finds it present', () => {
    const { process, memory } = newProcess();
    process.mmap(BASE, 4, PERM_READ | PERM_WRITE);
    expect(process.handleMmFault(BASE + 1, PERM_WRITE)).toBe('minor');
    expect(process.handleMmFault(BASE + 1, PERM_READ)).toBe('present');
    expect(memory.framesUsed).toBe(1);
    expect(process.faults).toEqual({ minor: 1, major: 0, errors: 0 });
  });

  it('fails outside any VMA (no-vma) and for an access the VMA does not allow (access)', () => {
    const { process, memory } = newProcess();
    process.mmap(BASE, 4, PERM_READ);
    expect(process.handleMmFault(BASE + 4, PERM_READ)).toBe('no-vma');
    expect(process.handleMmFault(BASE, PERM_WRITE)).toBe('access');
    expect(process.handleMmFault(BASE, PERM_EXEC)).toBe('access');
    expect(memory.framesUsed).toBe(0);
    expect(process.faults.errors).toBe(3);
  });

  it('reads a reclaimed page back (major) with the bytes it held', () => {
    const { process, memory } = newProcess();
    process.mmap(BASE, 2, PERM_READ | PERM_WRITE);
    process.write(BASE, 10, new Uint8Array([1, 2, 3]), PERM_WRITE);
    expect(process.reclaim(BASE, 2)).toBe(1);
    expect(process.residentPages).toBe(0);
    expect(process.swappedPages).toBe(1);
    expect(memory.framesUsed).toBe(0);
    expect(process.handleMmFault(BASE, PERM_READ)).toBe('major');
    const scratch = { present: false, pfn: 0, perms: 0, leafLevel: 0, levelsWalked: 0 };
    process.pageTable.walk(BASE, scratch);
    expect([...memory.snapshot(scratch.pfn)!.subarray(10, 13)]).toEqual([1, 2, 3]);
  });

  it('reports oom when memory is exhausted', () => {
    const { process } = newProcess(16);
    process.mmap(BASE, 32, PERM_READ | PERM_WRITE);
    const outcomes = Array.from({ length: 17 }, (_, i) => process.handleMmFault(BASE + i, PERM_WRITE));
    expect(outcomes.slice(0, 16).every((outcome) => outcome === 'minor')).toBe(true);
    expect(outcomes[16]).toBe('oom');
  });

  it('fails every access once the process is exiting', () => {
    const { process, memory } = newProcess();
    process.mmap(BASE, 2, PERM_READ | PERM_WRITE);
    process.handleMmFault(BASE, PERM_WRITE);
    process.exit();
    expect(process.handleMmFault(BASE, PERM_READ)).toBe('exiting');
    expect(memory.framesUsed).toBe(0);
    expect(() => process.mmap(BASE, 1, PERM_READ)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });
});

describe('VMAs: mmap, munmap, mprotect', () => {
  it('refuses an overlapping mmap with EEXIST and places an mmap without address after the last VMA', () => {
    const { process } = newProcess();
    process.mmap(BASE, 4, PERM_READ);
    expect(() => process.mmap(BASE + 3, 2, PERM_READ)).toThrow(
      expect.objectContaining({ code: 'EEXIST', reason: 'overlap' }),
    );
    const next = process.mmap(undefined, 1, PERM_READ);
    expect(next.startPage).toBe(BASE + 4);
    expect(process.vmas).toHaveLength(2);
  });

  it('munmap of the middle of a VMA leaves two VMAs and frees the pages; an unmapped range is no error', () => {
    const { process, memory } = newProcess();
    process.mmap(BASE, 10, PERM_READ | PERM_WRITE);
    for (let i = 0; i < 10; i++) process.handleMmFault(BASE + i, PERM_WRITE);
    process.munmap(BASE + 3, 4);
    expect(process.vmas.map((vma) => [vma.startPage - BASE, vma.endPage - BASE])).toEqual([
      [0, 3],
      [7, 10],
    ]);
    expect(memory.framesUsed).toBe(6);
    expect(process.handleMmFault(BASE + 4, PERM_READ)).toBe('no-vma');
    expect(() => process.munmap(BASE + 100, 4)).not.toThrow();
  });

  it('mprotect changes the VMA and the present pages; over a hole it is ENOMEM and changes nothing', () => {
    const { process } = newProcess();
    process.mmap(BASE, 4, PERM_READ | PERM_WRITE);
    process.handleMmFault(BASE, PERM_WRITE);
    expect(() => process.mprotect(BASE, 8, PERM_READ)).toThrow(
      expect.objectContaining({ code: 'ENOMEM', reason: 'hole' }),
    );
    expect(process.vmas).toHaveLength(1);
    expect(process.vmas[0]!.prot).toBe(PERM_READ | PERM_WRITE);
    process.mprotect(BASE, 2, PERM_READ);
    expect(process.vmas.map((vma) => vma.prot)).toEqual([PERM_READ, PERM_READ | PERM_WRITE]);
    expect(process.handleMmFault(BASE, PERM_WRITE)).toBe('access');
  });

  it('refuses ranges outside the user half of the address space', () => {
    const { process } = newProcess();
    expect(() => process.mmap(2 ** 35, 1, PERM_READ)).toThrow(expect.objectContaining({ code: 'ERANGE' }));
  });
});
