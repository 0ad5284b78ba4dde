/**
 * Runs a workload on a system: each stream keeps `concurrency` transactions in flight, submitting the
 * next one when one ends (after its think time, and after a gap at the end of each burst). Addresses
 * come from the stream's pattern and its own seeded random source, so a run is deterministic.
 */
import { PAGE_SIZE, parseSize, splitAddress } from '../address';
import type { Device } from '../device/device';
import { NO_PASID } from '../domain/domain';
import { validate } from '../config/system-config';
import { fail } from '../errors';
import type { Transaction } from '../dma/transaction';
import { Random } from '../sim/random';
import type { System } from '../system';
import { type StreamSpec, type WorkloadSpec, WorkloadSpecSchema } from './workload-spec';

export interface WorkloadProgress {
  submitted: number;
  ended: number;
  completed: number;
  failed: number;
  total: number;
}

const DEFAULT_STRIDE = 2 * 1024 * 1024 + PAGE_SIZE;

class Stream {
  submitted = 0;
  inFlight = 0;
  private readonly random: Random;
  private readonly basePage: number;
  private readonly baseOffset: number;
  private readonly workingSet: number;
  private readonly accessSize: number;
  private readonly slots: number;
  private readonly stride: number;

  /** Called when one of this stream's transactions ends (one function per stream, not per transaction). */
  onEnd: (transaction: Transaction) => void = () => {};
  /** Submits its next transaction: scheduled as is, so a submission allocates no closure. */
  submitNext: () => void = () => {};

  constructor(
    readonly spec: StreamSpec,
    readonly device: Device,
    seed: number,
    index: number,
  ) {
    // Each stream has its own generator, so adding a stream does not change the others' addresses.
    this.random = new Random(seed * 1000003 + index);
    const { page, offset } = splitAddress(spec.base, 'base');
    this.basePage = page;
    this.baseOffset = offset;
    this.workingSet = parseSize(spec.workingSet, 'workingSet');
    this.accessSize = spec.accessSize ?? PAGE_SIZE;
    // The same bound a single DMA has: no access may run past the top of the 64-bit space.
    const end = this.baseOffset + Math.max(this.workingSet, this.accessSize);
    if (this.basePage + Math.ceil(end / PAGE_SIZE) > 2 ** 52)
      fail('ERANGE', `stream ${index}'s working set runs past the top of the 64-bit address space.`, {
        reason: 'out-of-range',
      });
    this.slots = Math.max(1, Math.floor(this.workingSet / this.accessSize));
    this.stride = spec.stride === undefined ? DEFAULT_STRIDE : parseSize(spec.stride, 'stride');
  }

  get done(): boolean {
    return this.submitted >= this.spec.count;
  }

  /** Byte offset into the working set of transaction number `n`. */
  nextOffset(n: number): number {
    switch (this.spec.pattern) {
      case 'sequential':
        return (n % this.slots) * this.accessSize;
      case 'strided':
        return (n * this.stride) % Math.max(this.accessSize, this.workingSet - this.accessSize + 1);
      case 'random':
        return this.random.int(0, this.slots - 1) * this.accessSize;
      case 'hotspot': {
        const hotSlots = Math.max(1, Math.floor(this.slots * (this.spec.hotFraction ?? 0.1)));
        const hot = this.random.chance(this.spec.hotProbability ?? 0.9) || hotSlots === this.slots;
        return (
          (hot ? this.random.int(0, hotSlots - 1) : this.random.int(hotSlots, this.slots - 1)) *
          this.accessSize
        );
      }
    }
  }

  page(offset: number): number {
    return this.basePage + Math.floor((this.baseOffset + offset) / PAGE_SIZE);
  }

  pageOffset(offset: number): number {
    return (this.baseOffset + offset) % PAGE_SIZE;
  }

  nextAccess(): 'read' | 'write' {
    const readFraction = this.spec.readFraction ?? 1;
    return readFraction >= 1 || this.random.chance(readFraction) ? 'read' : 'write';
  }
}

export class WorkloadRun {
  readonly progress: WorkloadProgress;
  private readonly streams: Stream[];

  constructor(
    private readonly system: System,
    spec: WorkloadSpec,
    private readonly onProgress?: (progress: WorkloadProgress) => void,
  ) {
    validate(WorkloadSpecSchema, spec, 'workload');
    this.streams = spec.streams.map(
      (stream, index) => new Stream(stream, system.device(stream.device), system.options.seed, index),
    );
    for (const stream of this.streams) {
      stream.onEnd = (transaction) => this.ended(stream, transaction);
      stream.submitNext = () => this.submit(stream);
    }
    this.progress = {
      submitted: 0,
      ended: 0,
      completed: 0,
      failed: 0,
      total: spec.streams.reduce((sum, stream) => sum + stream.count, 0),
    };
  }

  get finished(): boolean {
    return this.progress.ended === this.progress.total;
  }

  /**
   * How it ended: every transaction did, or an overflow storm stopped the system before (`system.livelock`
   * has its figures); null while it runs.
   */
  get endedBy(): 'finished' | 'livelock' | null {
    if (this.finished) return 'finished';
    return this.system.livelock !== null ? 'livelock' : null;
  }

  /** Schedules the first submissions; the system's scheduler drives the rest. */
  start(): this {
    const start = this.system.nowNs;
    this.streams.forEach((stream) => {
      const first = Math.min(stream.spec.concurrency ?? 1, stream.spec.count);
      for (let i = 0; i < first; i++)
        this.system.schedule(start + (stream.spec.startNs ?? 0), stream.submitNext);
    });
    return this;
  }

  private submit(stream: Stream): void {
    if (stream.done) return;
    const n = stream.submitted++;
    stream.inFlight++;
    this.progress.submitted++;
    const { spec } = stream;
    const offset = stream.nextOffset(n);
    this.system.submitDma({
      device: stream.device,
      pasid: spec.pasid ?? NO_PASID,
      page: stream.page(offset),
      offset: stream.pageOffset(offset),
      length: spec.accessSize ?? PAGE_SIZE,
      access: stream.nextAccess(),
      privileged: spec.privileged ?? false,
      onEnd: stream.onEnd,
    });
  }

  private ended(stream: Stream, transaction: Transaction): void {
    stream.inFlight--;
    this.progress.ended++;
    if (transaction.state === 'completed') this.progress.completed++;
    else this.progress.failed++;
    this.onProgress?.(this.progress);
    if (stream.done) return;
    const { spec } = stream;
    const burstEnd = spec.burst !== undefined && stream.submitted % spec.burst.size === 0;
    const delay = (spec.thinkTimeNs ?? 0) + (burstEnd ? spec.burst!.gapNs : 0);
    this.system.schedule(this.system.nowNs + delay, stream.submitNext);
  }
}
