/**
 * Runs experiments: each run in its own worker thread (at most `parallel` at once, the rest queued), its
 * fault records written batch by batch as they arrive, each batch acknowledged to the worker only once it
 * is on disk, and its progress told to whoever listens (the run's websocket). Status changes go through
 * the database's run store. On shutdown, unfinished runs are stopped and marked interrupted; the records
 * they wrote stay.
 *
 * A database that cannot be written (full, read-only, an I/O error) ends the run it hit as failed, with a
 * reason that says how many of its records are safely on disk; nothing here ever rejects into the event
 * loop, so the server, its other runs and its labs go on.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { type Database, RunStateError, type RunStatus, storageFailure } from '@iommu-lab/db';
import type { ExperimentConfig } from '@iommu-lab/wire';
import type { FromWorker, ToWorker } from './run-worker';
import type { Trace } from './trace';

export interface RunUpdate {
  run: string;
  status: RunStatus;
  progress: number;
  transactions: number;
  totalTransactions: number;
  faultRecords: number;
  error?: string;
}

type Listener = (update: RunUpdate) => void;

/** The part of pino (Fastify's logger) runs use: what went wrong that is no run's fault. */
export interface RunLog {
  error(details: object, message: string): void;
}

interface Job {
  run: string;
  config: ExperimentConfig;
  seed: number;
  worker?: Worker;
  faultRecords: number;
  finished: Promise<void>;
  settle: () => void;
}

const workerUrl = new URL('./run-worker.mjs', import.meta.url);

export class RunManager {
  private readonly queue: Job[] = [];
  private readonly active = new Map<string, Job>();
  private readonly listeners = new Map<string, Set<Listener>>();
  /** Workers kept between runs: loading one (the emulator, through tsx) takes about a second. */
  private readonly idle: Worker[] = [];
  private closing = false;

  constructor(
    private readonly db: Database,
    // The main thread mostly waits while runs execute: one run per core.
    private readonly parallel = availableParallelism(),
    private readonly log: RunLog = { error: (details, message) => console.error(message, details) },
  ) {}

  /** Queues a run already created in the database (status queued); resolves when it has ended. */
  enqueue(run: string, config: ExperimentConfig, seed: number): Promise<void> {
    let settle!: () => void;
    const finished = new Promise<void>((resolve) => (settle = resolve));
    this.queue.push({ run, config, seed, faultRecords: 0, finished, settle });
    this.pump();
    return finished;
  }

  /** Updates of one run until it ends; returns the unsubscribe. */
  subscribe(run: string, listener: Listener): () => void {
    let set = this.listeners.get(run);
    if (!set) this.listeners.set(run, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** A run's event trace (Chrome trace-event JSON), made by running it again in a worker thread. */
  trace(run: string, config: ExperimentConfig, seed: number, maxEvents?: number): Promise<Trace> {
    const worker = this.idle.pop() ?? new Worker(workerUrl);
    return new Promise<Trace>((resolve, reject) => {
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'trace') resolve(message.trace);
        else if (message.type === 'failed') reject(new Error(message.error));
      });
      worker.on('error', reject);
      worker.postMessage({
        type: 'trace',
        run,
        config,
        seed,
        ...(maxEvents ? { maxEvents } : {}),
      } satisfies ToWorker);
    }).then(
      (trace) => {
        this.releaseWorker(worker);
        return trace;
      },
      async (error: unknown) => {
        await worker.terminate();
        throw error;
      },
    );
  }

  isActive(run: string): boolean {
    return this.active.has(run) || this.queue.some((job) => job.run === run);
  }

  /** Stops every run; their records on disk stay, and they are marked interrupted. */
  async close(): Promise<void> {
    this.closing = true;
    const jobs = [...this.active.values(), ...this.queue.splice(0)];
    await Promise.all([
      ...jobs.map((job) => job.worker?.terminate()),
      ...this.idle.splice(0).map((w) => w.terminate()),
    ]);
    for (const job of jobs) await this.end(job, 'interrupted', 'the server stopped during the run');
  }

  private pump(): void {
    while (!this.closing && this.active.size < this.parallel && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.active.set(job.run, job);
      void this.start(job);
    }
  }

  private async start(job: Job): Promise<void> {
    try {
      await this.db.runs.start(job.run);
    } catch (error) {
      // Gone (its sweep was refused) or already ended: there is nothing to run.
      if (error instanceof RunStateError) return this.drop(job);
      return this.end(job, 'failed', this.reason(job, error));
    }
    if (!this.active.has(job.run)) return; // the server closed meanwhile, and interrupted it
    // The worker is TypeScript: its entry registers tsx, whether the server runs under tsx or under Vitest.
    const worker = this.idle.pop() ?? new Worker(workerUrl);
    job.worker = worker;
    worker.on('message', (message: FromWorker) => void this.receive(job, message));
    worker.on('error', (error) => void this.end(job, 'failed', error.message));
    worker.on('exit', (code) => {
      if (this.active.has(job.run)) void this.end(job, 'failed', `the run's worker exited with code ${code}`);
    });
    worker.postMessage({ type: 'start', config: job.config, seed: job.seed } satisfies ToWorker);
    this.tell(job, { status: 'running', progress: 0, transactions: 0, totalTransactions: 0 });
  }

  /** Never rejects: whatever fails while a batch is stored or the run finishes ends this run. */
  private async receive(job: Job, message: FromWorker): Promise<void> {
    if (!this.active.has(job.run)) return;
    if (message.type === 'failed') return this.failed(job, message);
    if (message.type === 'trace') return;
    try {
      this.db.faults.append(job.run, message.rows, message.progress);
    } catch (error) {
      return this.end(job, 'failed', this.reason(job, error));
    }
    job.faultRecords += message.rows.length;
    const { transactions, totalTransactions } = message.progress;
    const progress = totalTransactions > 0 ? transactions / totalTransactions : 0;
    if (message.type === 'batch') {
      job.worker?.postMessage({ type: 'ack' } satisfies ToWorker);
      this.tell(job, { status: 'running', progress, transactions, totalTransactions });
      return;
    }
    try {
      await this.db.runs.finish(job.run, {
        metrics: message.metrics as object,
        histograms: message.histograms,
        series: message.series,
      });
    } catch (error) {
      return this.end(job, 'failed', this.reason(job, error));
    }
    this.active.delete(job.run);
    this.release(job);
    this.tell(job, { status: 'done', progress: 1, transactions, totalTransactions });
    this.finish(job);
  }

  /** The worker failed the run: the records it made before are kept (a livelock's), then it ends failed. */
  private async failed(job: Job, message: Extract<FromWorker, { type: 'failed' }>): Promise<void> {
    if (message.rows && message.progress) {
      try {
        this.db.faults.append(job.run, message.rows, message.progress);
      } catch (error) {
        return this.end(job, 'failed', `${message.error} (${this.reason(job, error)})`);
      }
      job.faultRecords += message.rows.length;
    }
    return this.end(job, 'failed', message.error);
  }

  /** Why a run failed on `error`, in one sentence: a storage fault says what is safely on disk. */
  private reason(job: Job, error: unknown): string {
    const storage = storageFailure(error);
    if (!storage) return error instanceof Error ? error.message : String(error);
    return `${storage.code}: the database cannot be written, ${storage.meaning} (${storage.detail}); ${job.faultRecords} fault records of this run are on disk.`;
  }

  /** Ends a run that did not finish; never rejects (an end the file cannot take waits in the run store). */
  private async end(job: Job, status: 'failed' | 'interrupted', error: string): Promise<void> {
    if (!this.active.delete(job.run) && status === 'failed') return;
    await job.worker?.terminate();
    job.worker = undefined;
    let run: { progress: number; transactions: number; totalTransactions: number } | null = null;
    try {
      await this.db.runs.end(job.run, status, error);
      run = await this.db.runs.find(job.run);
    } catch (failure) {
      // Ended meanwhile by another process, or unreadable: the listeners still hear how it ended here.
      if (!(failure instanceof RunStateError) && !storageFailure(failure))
        this.log.error({ err: failure, run: job.run }, 'the end of a run could not be recorded');
    }
    this.tell(job, {
      status,
      progress: run?.progress ?? 0,
      transactions: run?.transactions ?? 0,
      totalTransactions: run?.totalTransactions ?? 0,
      error,
    });
    this.finish(job);
  }

  /** A job whose run cannot start (removed, or ended elsewhere) leaves without a trace. */
  private drop(job: Job): void {
    this.active.delete(job.run);
    this.finish(job);
  }

  /** A worker whose run (or trace) ended well serves the next one. */
  private release(job: Job): void {
    if (job.worker) this.releaseWorker(job.worker);
    job.worker = undefined;
  }

  private releaseWorker(worker: Worker): void {
    for (const event of ['message', 'error', 'exit'] as const) worker.removeAllListeners(event);
    if (this.closing) void worker.terminate();
    else this.idle.push(worker);
  }

  private finish(job: Job): void {
    job.settle();
    this.listeners.delete(job.run);
    this.pump();
  }

  private tell(job: Job, update: Omit<RunUpdate, 'run' | 'faultRecords'>): void {
    const full: RunUpdate = { run: job.run, faultRecords: job.faultRecords, ...update };
    for (const listener of this.listeners.get(job.run) ?? []) listener(full);
  }
}
