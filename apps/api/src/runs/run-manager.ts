/**
 * Runs experiments: each run in its own worker thread (at most `parallel` at once, the rest queued), its
 * fault records handed batch by batch to a RunSink as they arrive, each batch acknowledged to the thread
 * only once the sink says it is on disk, and its progress told to whoever listens (the run's websocket).
 * The sink is the database's run store and fault log in the server (DatabaseSink), or the result stream to
 * the server through Redis in a queue worker (queue/result-sink.ts). On shutdown, unfinished runs are
 * stopped and marked interrupted; the records they wrote stay.
 *
 * A sink that cannot take a batch (a full database, a lost Redis) ends the run it hit as failed, with a
 * reason that says how many of its records are safely on disk; nothing here ever rejects into the event
 * loop, so the server, its other runs and its labs go on.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import {
  type Database,
  type FaultRow,
  type RunProgress,
  RunStateError,
  type RunStatus,
  type RunStop,
  storageFailure,
} from '@iommu-lab/db';
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

export interface RunResults {
  metrics: object;
  histograms: Record<string, [number, number][]>;
  series: object;
}

/** Where a run's status and records go. Every method may be slow (a remote server) and runs in order per run. */
export interface RunSink {
  /**
   * Marks the run running. Resolves the fault records it already has on disk (a resumed run sends only
   * those after), or null when there is nothing to run (gone, or ended elsewhere).
   */
  start(run: string): Promise<number | null>;
  /** Resolves once the rows and the progress are on disk. */
  append(run: string, rows: FaultRow[], progress: RunProgress): Promise<void>;
  finish(run: string, results: RunResults): Promise<void>;
  /**
   * Ends a run that did not finish; `stop` when the emulator's rules ended it, with a livelock's metrics
   * up to the stop. Resolves its progress as recorded (null when unknown). Never rejects.
   */
  end(
    run: string,
    status: 'failed' | 'interrupted',
    error: string,
    stop?: RunStop,
  ): Promise<RunProgressView | null>;
  /** Why `error` ended the run, in one sentence, given the records of it on disk. */
  reason(error: unknown, records: number): string;
}

export interface RunProgressView {
  progress: number;
  transactions: number;
  totalTransactions: number;
}

/** The server's own sink: the database's run store and fault log, in this process. */
export class DatabaseSink implements RunSink {
  constructor(
    private readonly db: Database,
    private readonly log: RunLog,
  ) {}

  async start(run: string): Promise<number | null> {
    try {
      await this.db.runs.start(run);
      return 0;
    } catch (error) {
      // Gone (its sweep was refused) or already ended: there is nothing to run.
      if (error instanceof RunStateError) return null;
      throw error;
    }
  }

  async append(run: string, rows: FaultRow[], progress: RunProgress): Promise<void> {
    // The write is synchronous (better-sqlite3), and a run's batches come back to back through its
    // MessagePort, which Node drains in one go (each ack lets the thread send the next): without a turn
    // of the event loop before each write, a run of a million records kept every request waiting.
    await new Promise((resolve) => setImmediate(resolve));
    this.db.faults.append(run, rows, progress);
  }

  finish(run: string, results: RunResults): Promise<void> {
    return this.db.runs.finish(run, results);
  }

  async end(
    run: string,
    status: 'failed' | 'interrupted',
    error: string,
    stop?: RunStop,
  ): Promise<RunProgressView | null> {
    try {
      await this.db.runs.end(run, status, error, stop);
      return await this.db.runs.find(run);
    } catch (failure) {
      // Ended meanwhile by another process, or unreadable: the listeners still hear how it ended here.
      if (!(failure instanceof RunStateError) && !storageFailure(failure))
        this.log.error({ err: failure, run }, 'the end of a run could not be recorded');
      return null;
    }
  }

  reason(error: unknown, records: number): string {
    const storage = storageFailure(error);
    if (!storage) return error instanceof Error ? error.message : String(error);
    return `${storage.code}: the database cannot be written, ${storage.meaning} (${storage.detail}); ${records} fault records of this run are on disk.`;
  }
}

interface Job {
  run: string;
  config: ExperimentConfig;
  seed: number;
  worker?: Worker;
  faultRecords: number;
  /** What the thread sent, taken one message at a time (the sink may be slow). */
  inbox: Promise<void>;
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
    private readonly sink: RunSink,
    // The main thread mostly waits while runs execute: one run per core.
    private readonly parallel = availableParallelism(),
  ) {}

  /** Queues a run already created in the database (status queued); resolves when it has ended. */
  enqueue(run: string, config: ExperimentConfig, seed: number): Promise<void> {
    let settle!: () => void;
    const finished = new Promise<void>((resolve) => (settle = resolve));
    this.queue.push({ run, config, seed, faultRecords: 0, inbox: Promise.resolve(), finished, settle });
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

  /** Stops every run; their records on disk stay, and they are marked interrupted (`why`). */
  async close(why = 'the server stopped during the run'): Promise<void> {
    this.closing = true;
    const jobs = [...this.active.values(), ...this.queue.splice(0)];
    await Promise.all([
      ...jobs.map((job) => job.worker?.terminate()),
      ...this.idle.splice(0).map((w) => w.terminate()),
    ]);
    for (const job of jobs) await this.end(job, 'interrupted', why);
  }

  private pump(): void {
    while (!this.closing && this.active.size < this.parallel && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.active.set(job.run, job);
      void this.start(job);
    }
  }

  private async start(job: Job): Promise<void> {
    let onDisk: number | null;
    try {
      onDisk = await this.sink.start(job.run);
    } catch (error) {
      return this.end(job, 'failed', this.sink.reason(error, 0));
    }
    if (onDisk === null) return this.drop(job);
    job.faultRecords = onDisk;
    if (!this.active.has(job.run)) return; // the server closed meanwhile, and interrupted it
    // The worker is TypeScript: its entry registers tsx, whether the server runs under tsx or under Vitest.
    const worker = this.idle.pop() ?? new Worker(workerUrl);
    job.worker = worker;
    worker.on('message', (message: FromWorker) => {
      job.inbox = job.inbox.then(() => this.receive(job, message));
    });
    worker.on('error', (error) => void this.end(job, 'failed', error.message));
    worker.on('exit', (code) => {
      if (this.active.has(job.run)) void this.end(job, 'failed', `the run's worker exited with code ${code}`);
    });
    worker.postMessage({
      type: 'start',
      config: job.config,
      seed: job.seed,
      // A resumed run: the emulator is deterministic, so the rows before these are the ones on disk.
      skipRows: onDisk,
    } satisfies ToWorker);
    this.tell(job, { status: 'running', progress: 0, transactions: 0, totalTransactions: 0 });
  }

  /** Never rejects: whatever fails while a batch is stored or the run finishes ends this run. */
  private async receive(job: Job, message: FromWorker): Promise<void> {
    if (!this.active.has(job.run)) return;
    if (message.type === 'failed') return this.failed(job, message);
    if (message.type === 'trace') return;
    try {
      await this.sink.append(job.run, message.rows, message.progress);
    } catch (error) {
      return this.end(job, 'failed', this.sink.reason(error, job.faultRecords));
    }
    job.faultRecords += message.rows.length;
    if (!this.active.has(job.run)) return; // ended meanwhile (the process is closing)
    const { transactions, totalTransactions } = message.progress;
    const progress = totalTransactions > 0 ? transactions / totalTransactions : 0;
    if (message.type === 'batch') {
      job.worker?.postMessage({ type: 'ack' } satisfies ToWorker);
      this.tell(job, { status: 'running', progress, transactions, totalTransactions });
      return;
    }
    try {
      await this.sink.finish(job.run, {
        metrics: message.metrics as object,
        histograms: message.histograms,
        series: message.series,
      });
    } catch (error) {
      return this.end(job, 'failed', this.sink.reason(error, job.faultRecords));
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
        await this.sink.append(job.run, message.rows, message.progress);
      } catch (error) {
        // Records it made are lost: the machine failed the run, whatever stopped the emulator.
        return this.end(job, 'failed', `${message.error} (${this.sink.reason(error, job.faultRecords)})`);
      }
      job.faultRecords += message.rows.length;
    }
    const stop = message.stoppedBy && {
      by: message.stoppedBy,
      ...(message.metrics ? { metrics: message.metrics as object } : {}),
    };
    return this.end(job, 'failed', message.error, stop);
  }

  /** Ends a run that did not finish; never rejects (an end the file cannot take waits in the run store). */
  private async end(
    job: Job,
    status: 'failed' | 'interrupted',
    error: string,
    stop?: RunStop,
  ): Promise<void> {
    if (!this.active.delete(job.run) && status === 'failed') return;
    await job.worker?.terminate();
    job.worker = undefined;
    const run = await this.sink.end(job.run, status, error, stop);
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
