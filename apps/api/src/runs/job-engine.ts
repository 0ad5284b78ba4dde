/**
 * Where runs execute. `local`: this server's worker pool (RunManager). `bullmq`: a BullMQ queue on Redis,
 * for a job engine shared with other processes: any process with a worker (this server by default, or
 * `npm run worker -w @iommu-lab/api`, on the same database file) takes the next run from the queue.
 */
import { Queue, Worker } from 'bullmq';
import type { ExperimentConfig } from '@iommu-lab/wire';
import type { RunManager } from './run-manager';

export const QUEUE_NAME = 'iommu-lab-runs';

export interface RunJob {
  run: string;
  config: ExperimentConfig;
  seed: number;
}

export interface JobEngine {
  readonly name: 'local' | 'bullmq';
  submit(job: RunJob): Promise<void>;
  close(): Promise<void>;
}

export class LocalEngine implements JobEngine {
  readonly name = 'local';
  constructor(private readonly runs: RunManager) {}

  async submit(job: RunJob): Promise<void> {
    void this.runs.enqueue(job.run, job.config, job.seed);
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
    maxRetriesPerRequest: null,
  };
}

export class BullmqEngine implements JobEngine {
  readonly name = 'bullmq';
  private readonly queue: Queue<RunJob>;

  constructor(redisUrl: string) {
    this.queue = new Queue<RunJob>(QUEUE_NAME, { connection: connection(redisUrl) });
  }

  async submit(job: RunJob): Promise<void> {
    await this.queue.add('run', job, { jobId: job.run, removeOnComplete: 1000, removeOnFail: 1000 });
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

/** Takes runs from the queue and executes them with `runs` (at most `concurrency` at once). */
export function startQueueWorker(redisUrl: string, runs: RunManager, concurrency: number): Worker<RunJob> {
  return new Worker<RunJob>(
    QUEUE_NAME,
    async (job) => runs.enqueue(job.data.run, job.data.config, job.data.seed),
    {
      connection: connection(redisUrl),
      concurrency,
    },
  );
}
