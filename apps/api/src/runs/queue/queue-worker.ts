/**
 * A queue worker: takes runs from the BullMQ queue, executes them in its worker threads (RunManager, at
 * most `concurrency` at once) and sends their results to the server through Redis (ResultSink). It needs
 * only Redis: `npm run worker -w @iommu-lab/api` on any machine, or the server's own (in its process).

 * The retry policy is in policy.ts.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { EngineLog, JobEngine } from '../job-engine';
import { MAX_STALLED, type QueueTiming, queueTiming } from './policy';
import { ConnectionState, quietRedis, redisOptions, where } from './redis-connection';
import { RunManager } from '../run-manager';
import { AckReader, ResultSink } from './result-sink';
import { incompatibility, KEYS, ownVersion, QUEUE_NAME, type RunJob, type WorkerBeat } from './protocol';
import { Heartbeat } from './worker-registry';

export interface QueueWorkerOptions {
  redisUrl: string;
  concurrency: number;
  cores: number;
  log: EngineLog;
  timing?: QueueTiming;
  /** The server's own worker (in its process). */
  inServer?: boolean;
  /** Beside this process's BullmqEngine, a Redis that is away is the engine's to report. */
  sameRedis?: JobEngine;
}

export class QueueWorker {
  readonly id: string;
  private readonly bull: Worker<RunJob>;
  private readonly runs: RunManager;
  private readonly redis: Redis;
  private readonly acks: AckReader;
  private readonly sink: ResultSink;
  private readonly heartbeat: Heartbeat;
  private readonly current = new Map<string, { attempt: number; progress: number }>();
  private readonly startedAt = new Date().toISOString();
  private closing = false;

  constructor(private readonly options: QueueWorkerOptions) {
    const timing = options.timing ?? queueTiming();
    const host = hostname();
    this.id = `${host}:${process.pid}:${options.inServer ? 'server' : randomBytes(3).toString('hex')}`;
    const address = where(options.redisUrl);
    this.redis = new Redis(redisOptions(options.redisUrl));
    this.acks = new AckReader(quietRedis(options.redisUrl), KEYS.acks(this.id));
    this.sink = new ResultSink(this.redis, this.acks, this.id, address, timing.lossMs);
    this.runs = new RunManager(this.sink, options.concurrency);
    const beat = (): WorkerBeat => ({
      id: this.id,
      host,
      pid: process.pid,
      cores: options.cores,
      concurrency: options.concurrency,
      version: ownVersion(),
      startedAt: this.startedAt,
      lastSeenAt: new Date().toISOString(),
      inServer: options.inServer ?? false,
      runs: [...this.current].map(([run, { attempt, progress }]) => ({ run, attempt, progress })),
    });
    this.heartbeat = new Heartbeat(this.redis, beat, timing.heartbeatMs);
    this.bull = new Worker<RunJob>(QUEUE_NAME, (job) => this.process(job.data), {
      connection: redisOptions(options.redisUrl),
      concurrency: options.concurrency,
      lockDuration: timing.lockMs,
      stalledInterval: timing.lockMs,
      maxStalledCount: MAX_STALLED,
      autorun: false,
    });
    const state = new ConnectionState(
      'the queue worker',
      address,
      options.log,
      'this process takes no runs from the queue',
    );
    const failed = (error: Error) => {
      if (options.sameRedis && options.sameRedis.health().state !== 'ready') return;
      state.failed(error);
    };
    for (const client of [this.bull, this.redis]) client.on('error', failed);
    this.bull.on('ready', () => state.ready());
  }

  /** Registers (the first heartbeat), then takes jobs. Rejects when Redis cannot be reached. */
  async start(): Promise<void> {
    await this.heartbeat.start();
    void this.bull
      .run()
      .catch((error: unknown) => this.options.log.warn({ err: error }, 'the queue worker stopped'));
  }

  private async process(job: RunJob): Promise<void> {
    const attempt = await this.redis.incr(KEYS.attempt(job.run));
    await this.redis.pexpire(KEYS.attempt(job.run), 7 * 24 * 3600_000);
    const why = job.needs
      ? incompatibility(job.needs, ownVersion())
      : 'the job names no versions (an older server)';
    if (why) {
      await this.sink.refuse(job.run, attempt, why);
      // BullMQ tries it again (JOB_ATTEMPTS, back-off), maybe on another worker.
      throw new Error(why);
    }
    this.sink.attempt(job.run, attempt);
    this.current.set(job.run, { attempt, progress: 0 });
    this.heartbeat.beatNow();
    const unsubscribe = this.runs.subscribe(job.run, (update) => {
      const entry = this.current.get(job.run);
      if (entry) entry.progress = update.progress;
    });
    try {
      await this.runs.enqueue(job.run, job.config, job.seed);
    } finally {
      unsubscribe();
      this.current.delete(job.run);
      if (!this.closing) this.heartbeat.beatNow();
    }
    // Interrupted by this worker's stop: the job is not done, it goes back to the queue.
    if (this.closing) throw new Error(`worker ${this.id} stopped during the run`);
  }

  /**
   * Stops taking jobs and interrupts the runs it has (the server records them interrupted; their jobs
   * stall and another worker resumes them), then says goodbye.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.sink.stopping();
    await this.bull.close(true).catch(() => {});
    await this.runs.close(`worker ${this.id} stopped during the run`);
    await this.heartbeat.stop().catch(() => {});
    this.acks.close();
    this.redis.disconnect();
  }
}
