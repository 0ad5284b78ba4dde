/**
 * Where runs execute; every run goes through one (a single run as much as a sweep's points). `local`: this
 * server's worker pool (RunManager). `bullmq`: a BullMQ queue on Redis, for a job engine shared with other
 * processes: any process with a worker (this server by default, or `npm run worker -w @iommu-lab/api`, on
 * the same database file) takes the next run from the queue.
 *
 * Redis can be down (or never up): the engine keeps the connection's state, logs a change of it once, and
 * refuses work with EQUEUE within QUEUE_WAIT_MS instead of waiting for Redis forever.
 */
import { Queue, Worker } from 'bullmq';
import type { ExperimentConfig } from '@iommu-lab/wire';
import { ServiceError } from '../plugins/errors';
import type { RunManager } from './run-manager';

export const QUEUE_NAME = 'iommu-lab-runs';
/** How long a request that needs the queue waits for Redis before it is refused. */
export const QUEUE_WAIT_MS = 3000;

export interface RunJob {
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
  submit(jobs: RunJob[]): Promise<void>;
  close(): Promise<void>;
}

export class LocalEngine implements JobEngine {
  readonly name = 'local';
  constructor(private readonly runs: RunManager) {}

  health(): EngineHealth {
    return { state: 'ready' };
  }

  async ready(): Promise<void> {}

  async submit(jobs: RunJob[]): Promise<void> {
    for (const job of jobs) void this.runs.enqueue(job.run, job.config, job.seed);
  }

  async close(): Promise<void> {}
}

function connection(redisUrl: string) {
  const url = new URL(redisUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
    // Workers block on Redis and must wait for it (BullMQ requires null here).
    maxRetriesPerRequest: null,
  };
}

/** Redis's address without its password, for logs and answers. */
const where = (redisUrl: string) => {
  const url = new URL(redisUrl);
  return `${url.hostname}:${url.port || 6379}`;
};

/**
 * A Redis connection's state, told once per change: the first failure at warn (not one line per retry),
 * the recovery at info.
 */
class ConnectionState {
  state: EngineState = 'connecting';
  error?: string;
  failures = 0;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly what: string,
    private readonly address: string,
    private readonly log: EngineLog,
    /** What is refused meanwhile, for the warning. */
    private readonly meanwhile: string,
  ) {}

  failed(error: Error): void {
    this.error = error.message;
    this.failures++;
    if (this.state === 'unreachable') return;
    this.state = 'unreachable';
    this.log.warn(
      { redis: this.address, err: error.message },
      `${this.what}: Redis at ${this.address} is unreachable; ${this.meanwhile} until it is back`,
    );
  }

  ready(): void {
    if (this.state === 'unreachable')
      this.log.info({ redis: this.address }, `${this.what}: Redis at ${this.address} is reachable again`);
    this.state = 'ready';
    this.error = undefined;
    this.failures = 0;
    for (const wake of this.waiters) wake();
  }

  /** Resolves true when ready within `ms`. */
  until(ms: number): Promise<boolean> {
    if (this.state === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        resolve(false);
      }, ms);
      this.waiters.add(wake);
    });
  }
}

export class BullmqEngine implements JobEngine {
  readonly name = 'bullmq';
  private readonly queue: Queue<RunJob>;
  private readonly connection: ConnectionState;
  private readonly address: string;
  /** Redis's client, once it was reached. */
  private client: { disconnect(): void } | undefined;

  constructor(redisUrl: string, log: EngineLog) {
    this.address = where(redisUrl);
    this.connection = new ConnectionState(
      'the job queue',
      this.address,
      log,
      'runs on the bullmq engine are refused',
    );
    // Adds fail at once while Redis is away (instead of waiting in ioredis's offline queue forever).
    this.queue = new Queue<RunJob>(QUEUE_NAME, {
      connection: { ...connection(redisUrl), enableOfflineQueue: false },
    });
    this.queue.on('error', (error) => this.connection.failed(error));
    void this.queue.waitUntilReady().then(
      (client) => {
        this.client = client;
        this.connection.ready();
        client.on('ready', () => this.connection.ready());
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

  async submit(jobs: RunJob[]): Promise<void> {
    await this.ready();
    // One MULTI: every job is queued, or none is.
    const added = this.queue.addBulk(
      jobs.map((job) => ({
        name: 'run',
        data: job,
        opts: { jobId: job.run, removeOnComplete: 1000, removeOnFail: 1000 },
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

  /** Without Redis there is nothing to close politely: the connection is dropped (and stops retrying). */
  async close(): Promise<void> {
    await this.queue.close().catch(() => this.client?.disconnect());
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

/**
 * Takes runs from the queue and executes them with `runs` (at most `concurrency` at once). A job whose run
 * is gone (its sweep refused after the job was queued) or already ended is done without running. Beside
 * this process's own BullmqEngine (`sameRedis`), a Redis that is away is the engine's to report: the worker
 * reports only problems the engine does not see.
 */
export function startQueueWorker(
  redisUrl: string,
  runs: RunManager,
  concurrency: number,
  log: EngineLog,
  sameRedis?: JobEngine,
): Worker<RunJob> {
  const worker = new Worker<RunJob>(
    QUEUE_NAME,
    async (job) => runs.enqueue(job.data.run, job.data.config, job.data.seed),
    { connection: connection(redisUrl), concurrency },
  );
  const state = new ConnectionState(
    'the queue worker',
    where(redisUrl),
    log,
    'this process takes no runs from the queue',
  );
  worker.on('error', (error) => {
    if (sameRedis && sameRedis.health().state !== 'ready') return;
    state.failed(error);
  });
  worker.on('ready', () => state.ready());
  return worker;
}
