/**
 * Where runs execute; every run goes through one (a single run as much as a sweep's points). `local`: this
 * server's worker pool (RunManager). `bullmq`: a BullMQ queue on Redis: any queue worker (this server's own
 * by default, or `npm run worker -w @iommu-lab/api` on any machine that reaches Redis) takes the next run,
 * and sends its results back through Redis, where this engine's intake writes them (queue/).
 *
 * Redis can be down (or never up): the engine keeps the connection's state, logs a change of it once, and
 * refuses work with EQUEUE within QUEUE_WAIT_MS instead of waiting for Redis forever.
 */
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Database } from '@iommu-lab/db';
import type { ExperimentConfig } from '@iommu-lab/wire';
import { ServiceError } from '../plugins/errors';
import type { RunManager } from './run-manager';
import { ownVersion, QUEUE_NAME, type RunJob, type WorkerBeat } from './queue/protocol';
import { ConnectionState, quietRedis, redisOptions, where } from './queue/redis-connection';
import { ResultIntake } from './queue/result-intake';
import { JOB_ATTEMPTS, JOB_BACKOFF, type QueueTiming, queueTiming } from './queue/policy';
import { type ListedWorker, WorkerRoster } from './queue/worker-registry';

/** How long GET /workers waits for a fresh read of the heartbeats before it answers with the last one. */
const FRESH_READ_MS = 500;
/** How long a request that needs the queue waits for Redis before it is refused. */
export const QUEUE_WAIT_MS = 3000;

/** A run to execute: created in the database (queued), with the config and seed it runs. */
export interface RunSubmission {
  run: string;
  config: ExperimentConfig;
  seed: number;
}

export type EngineState = 'ready' | 'connecting' | 'unreachable';

export interface EngineHealth {
  state: EngineState;
  /** Why it is unreachable (the last connection error). */
  error?: string;
  /** Connection attempts that failed since it was last reachable (it keeps retrying). */
  failures?: number;
}

/** The part of pino (Fastify's logger) the engines use. */
export interface EngineLog {
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

export interface JobEngine {
  readonly name: 'local' | 'bullmq';
  health(): EngineHealth;
  /** Resolves when the engine can take work; a ServiceError EQUEUE when it cannot within QUEUE_WAIT_MS. */
  ready(): Promise<void>;
  /** Submits every job, or none (then throws). */
  submit(jobs: RunSubmission[]): Promise<void>;
  close(): Promise<void>;
}

export class LocalEngine implements JobEngine {
  readonly name = 'local';
  constructor(private readonly runs: RunManager) {}

  health(): EngineHealth {
    return { state: 'ready' };
  }

  async ready(): Promise<void> {}

  async submit(jobs: RunSubmission[]): Promise<void> {
    for (const job of jobs) void this.runs.enqueue(job.run, job.config, job.seed);
  }

  async close(): Promise<void> {}
}

/**
 * The server's side of the queue: it submits jobs, takes every worker's results into the database
 * (ResultIntake), lists the workers and interrupts the runs of one that is lost (WorkerRoster), and ends
 * a run the queue gave up on (a job failed for good: refused by every worker that took it, or lost too
 * often) as failed with BullMQ's reason.
 */
export class BullmqEngine implements JobEngine {
  readonly name = 'bullmq';
  private readonly queue: Queue<RunJob>;
  private readonly connection: ConnectionState;
  private readonly address: string;
  /** Redis's client, once it was reached. */
  private client: { disconnect(): void } | undefined;
  private readonly redis: Redis;
  private readonly intake: ResultIntake;
  private readonly roster: WorkerRoster;
  private readonly events: QueueEvents;
  private readonly eventsRedis: Redis;

  constructor(
    redisUrl: string,
    private readonly db: Database,
    private readonly log: EngineLog,
    timing: QueueTiming = queueTiming(),
  ) {
    this.address = where(redisUrl);
    this.connection = new ConnectionState(
      'the job queue',
      this.address,
      log,
      'runs on the bullmq engine are refused',
    );
    // Adds fail at once while Redis is away (instead of waiting in ioredis's offline queue forever).
    this.queue = new Queue<RunJob>(QUEUE_NAME, {
      connection: { ...redisOptions(redisUrl), enableOfflineQueue: false },
    });
    this.redis = quietRedis(redisUrl);
    this.intake = new ResultIntake(db, this.redis, quietRedis(redisUrl), log);
    this.intake.start();
    this.roster = new WorkerRoster(this.redis, timing.heartbeatMs, (beat) => this.lost(beat));
    this.roster.start();
    // Its own connection, which close can drop: QueueEvents' own close waits for a Redis that may be away.
    this.eventsRedis = quietRedis(redisUrl);
    this.events = new QueueEvents(QUEUE_NAME, { connection: this.eventsRedis });
    this.events.on('error', () => {});
    this.events.on('failed', ({ jobId, failedReason }) => void this.gaveUp(jobId, failedReason));
    this.queue.on('error', (error) => this.connection.failed(error));
    void this.queue.waitUntilReady().then(
      (client) => {
        this.client = client;
        this.connection.ready();
        client.on('ready', () => this.connection.ready());
        void this.reconcile();
      },
      // Closed before Redis was ever reached: nothing is waiting for it any more.
      () => {},
    );
  }

  health(): EngineHealth {
    const { state, error, failures } = this.connection;
    return { state, ...(error ? { error, failures } : {}) };
  }

  /** Known to be away: refused at once; still connecting (just started): waits up to QUEUE_WAIT_MS. */
  async ready(): Promise<void> {
    if (this.connection.state === 'unreachable') throw this.unavailable(this.connection.error);
    if (!(await this.connection.until(QUEUE_WAIT_MS))) throw this.unavailable(this.connection.error);
  }

  async submit(jobs: RunSubmission[]): Promise<void> {
    await this.ready();
    const needs = ownVersion();
    // One MULTI: every job is queued, or none is.
    const added = this.queue.addBulk(
      jobs.map((job) => ({
        name: 'run',
        data: { ...job, needs },
        opts: {
          jobId: job.run,
          attempts: JOB_ATTEMPTS,
          backoff: JOB_BACKOFF,
          removeOnComplete: 1000,
          removeOnFail: 1000,
        },
      })),
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.unavailable('no answer')), QUEUE_WAIT_MS);
    });
    try {
      await Promise.race([added, late]);
    } catch (error) {
      throw error instanceof ServiceError ? error : this.unavailable((error as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The workers whose heartbeats reach Redis (read now), then the recently lost. */
  async workers(): Promise<ListedWorker[]> {
    // A Redis that is away (or frozen) answers nothing: then what the roster last read, without waiting.
    if (this.connection.state === 'ready') {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.roster.tick(),
        new Promise((resolve) => (timer = setTimeout(resolve, FRESH_READ_MS))),
      ]);
      clearTimeout(timer);
    }
    return this.roster.list();
  }

  /** Without Redis there is nothing to close politely: the connection is dropped (and stops retrying). */
  async close(): Promise<void> {
    this.roster.stop();
    await this.intake.close();
    this.eventsRedis.disconnect();
    this.redis.disconnect();
    await this.queue.close().catch(() => this.client?.disconnect());
  }

  /** A lost worker's runs are interrupted at once; their jobs stall and another worker resumes them. */
  private async lost(beat: WorkerBeat): Promise<void> {
    const runs = await this.db.prisma.run.findMany({ where: { status: 'running', worker: beat.id } });
    const seen =
      beat.lastSeenAt === new Date(0).toISOString() ? 'before this server started' : beat.lastSeenAt;
    for (const run of runs) {
      const error = `its queue worker ${beat.id} was lost (last heartbeat ${seen}); ${run.faultRecords} fault records are on disk, and the queue hands the run to another worker, which resumes it`;
      await this.db.runs.endAttempt(run.id, run.attempt, { status: 'lost', error }).catch(() => {});
      this.log.warn({ run: run.id, worker: beat.id }, `run ${run.id} interrupted: ${error}`);
    }
  }

  /** A job that failed for good: its run, if it has not ended, fails with the queue's reason. */
  private async gaveUp(run: string, reason: string): Promise<void> {
    const job = await this.queue.getJob(run).catch(() => undefined);
    // Failed with attempts left: it is retried (delayed), not given up.
    if (job && job.attemptsMade < (job.opts.attempts ?? 1) && !reason.includes('stalled more than')) return;
    const now = await this.db.runs.find(run).catch(() => null);
    if (!now || now.status === 'done' || now.status === 'failed') return;
    await this.db.runs
      .end(
        run,
        'failed',
        `the job queue gave up on the run after ${job?.attemptsMade ?? '?'} attempts: ${reason}`,
      )
      .catch(() => {});
  }

  /**
   * Once Redis is reached: runs this engine queued that the database has unfinished but the queue no
   * longer holds (Redis lost its data, or the run was queued when Redis went away) are interrupted.
   */
  private async reconcile(): Promise<void> {
    const runs = await this.db.prisma.run.findMany({
      where: { engine: 'bullmq', status: { in: ['queued', 'running'] } },
      select: { id: true },
    });
    for (const { id } of runs) {
      const state = await this.queue.getJobState(id).catch(() => 'error');
      if (state !== 'unknown') continue;
      await this.db.runs
        .end(id, 'interrupted', 'its job is not in the queue (Redis lost it)')
        .catch(() => {});
    }
  }

  private unavailable(cause = 'not connected'): ServiceError {
    return new ServiceError(
      'unavailable',
      'EQUEUE',
      `the job queue (Redis at ${this.address}) is unreachable (${cause}); try again later, or use engine "local".`,
      'queue-unreachable',
    );
  }
}
