/**
 * Physical memory in 4 KiB frames: which frames are in use (a reference count each), which are pinned
 * (cannot be reclaimed while a device may reach them without faulting), and the bytes of the frames DMA
 * or a process wrote. Frames nobody wrote read as zeros, so a large memory costs two typed arrays.
 */
import { PAGE_SIZE, formatAddress } from '../address';
import { fail } from '../errors';

export class PhysicalMemory {
  readonly frames: number;
  private readonly refcounts: Uint32Array;
  private readonly pins: Uint32Array;
  private readonly contents = new Map<number, Uint8Array>();
  /** Where the next search for a free frame starts: allocation is first-fit from here, deterministic. */
  private cursor = 0;
  private used = 0;

  constructor(frames: number) {
    if (!Number.isSafeInteger(frames) || frames < 16 || frames > 2 ** 28) {
      fail('EINVAL', `memory of ${frames} frames is outside 16..2^28 (64 KiB..1 TiB).`, {
        reason: 'bad-memory-size',
      });
    }
    this.frames = frames;
    this.refcounts = new Uint32Array(frames);
    this.pins = new Uint32Array(frames);
  }

  get framesUsed(): number {
    return this.used;
  }

  get framesFree(): number {
    return this.frames - this.used;
  }

  exists(pfn: number): boolean {
    return pfn >= 0 && pfn < this.frames;
  }

  refcount(pfn: number): number {
    return this.exists(pfn) ? this.refcounts[pfn]! : 0;
  }

  pinCount(pfn: number): number {
    return this.exists(pfn) ? this.pins[pfn]! : 0;
  }

  /** One free frame, zeroed, with a reference count of 1; undefined when memory is exhausted. */
  allocate(): number | undefined {
    if (this.used >= this.frames) return undefined;
    for (let scanned = 0; scanned < this.frames; scanned++) {
      const pfn = this.cursor;
      this.cursor = this.cursor + 1 === this.frames ? 0 : this.cursor + 1;
      if (this.refcounts[pfn] === 0) {
        this.take(pfn);
        return pfn;
      }
    }
    return undefined;
  }

  /** `count` contiguous free frames aligned to `alignFrames`, each with a reference count of 1. */
  allocateContiguous(count: number, alignFrames = 1): number | undefined {
    if (!Number.isInteger(count) || count < 1 || !Number.isInteger(alignFrames) || alignFrames < 1) {
      fail('EINVAL', `contiguous allocation of ${count} frames aligned to ${alignFrames} is not possible.`, {
        reason: 'bad-allocation',
      });
    }
    if (count === 1 && alignFrames === 1) return this.allocate();
    if (this.frames - this.used < count) return undefined;
    for (let base = 0; base + count <= this.frames; base += alignFrames) {
      let free = 0;
      while (free < count && this.refcounts[base + free] === 0) free++;
      if (free === count) {
        for (let i = 0; i < count; i++) this.take(base + i);
        return base;
      }
    }
    return undefined;
  }

  /** Takes one more reference to a frame, free or not (a mapping of an explicit physical address). */
  get(pfn: number): void {
    this.checkFrame(pfn);
    if (this.refcounts[pfn] === 0) this.take(pfn);
    else this.refcounts[pfn]!++;
  }

  /** Drops a reference; at zero the frame is free again and its contents are forgotten. */
  put(pfn: number): void {
    this.checkFrame(pfn);
    if (this.refcounts[pfn] === 0)
      fail('EINVAL', `frame ${formatAddress(pfn)} is already free.`, { reason: 'double-free' });
    if (--this.refcounts[pfn]! === 0) {
      this.used--;
      this.pins[pfn] = 0;
      this.contents.delete(pfn);
    }
  }

  pin(pfn: number): void {
    this.checkFrame(pfn);
    this.pins[pfn]!++;
  }

  unpin(pfn: number): void {
    this.checkFrame(pfn);
    if (this.pins[pfn] === 0)
      fail('EINVAL', `frame ${formatAddress(pfn)} is not pinned.`, { reason: 'not-pinned' });
    this.pins[pfn]!--;
  }

  /** Copies `bytes` into the frame at `offset`. */
  write(pfn: number, offset: number, bytes: Uint8Array): void {
    this.checkFrame(pfn);
    if (offset < 0 || offset + bytes.length > PAGE_SIZE)
      fail('EINVAL', `write of ${bytes.length} bytes at offset ${offset} crosses a frame.`);
    let frame = this.contents.get(pfn);
    if (!frame) this.contents.set(pfn, (frame = new Uint8Array(PAGE_SIZE)));
    frame.set(bytes, offset);
  }

  /** Copies `length` bytes of the frame at `offset` into `into` at `intoOffset`. */
  read(pfn: number, offset: number, length: number, into: Uint8Array, intoOffset: number): void {
    this.checkFrame(pfn);
    if (offset < 0 || length < 0 || offset + length > PAGE_SIZE)
      fail('EINVAL', `read of ${length} bytes at offset ${offset} crosses a frame.`);
    const frame = this.contents.get(pfn);
    if (frame) into.set(frame.subarray(offset, offset + length), intoOffset);
    else into.fill(0, intoOffset, intoOffset + length);
  }

  /** A copy of the whole frame's bytes, or undefined when nothing was ever written to it. */
  snapshot(pfn: number): Uint8Array | undefined {
    const frame = this.contents.get(pfn);
    return frame ? frame.slice() : undefined;
  }

  private take(pfn: number): void {
    this.refcounts[pfn] = 1;
    this.used++;
  }

  private checkFrame(pfn: number): void {
    if (!this.exists(pfn) || !Number.isInteger(pfn)) {
      fail(
        'ERANGE',
        `physical address ${formatAddress(pfn)} is beyond the ${this.frames} frames of memory.`,
        { reason: 'no-such-frame' },
      );
    }
  }
}
