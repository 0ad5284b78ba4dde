/**
 * What the queue does when things go wrong, and how fast it notices (README "More machines"):
 * - a worker that is lost (killed, its machine gone) stops renewing its jobs' locks; BullMQ's stalled-job
 *   check, in any live worker, puts each job back up to MAX_STALLED times (then fails it), and the next
 *   attempt resumes the run at the records already on the server's disk;
 * - a worker whose versions differ from the job's refuses it (the refusal is recorded in the run's
 *   attempts) and BullMQ retries the job, maybe on another worker, up to JOB_ATTEMPTS times with back-off;
 * - a run the emulator fails (a livelock, a workload that cannot finish) fails at once: it is deterministic.
 *
 * A run that outlives a lost Redis by `lossMs` fails with that reason (its end is delivered when Redis is
 * back); the worker itself stays up and reconnects.
 */

/** Times a job is put back after its worker was lost, before it fails. */
export const MAX_STALLED = 2;
/** Times a job that a worker refused (or that threw) is tried. */
export const JOB_ATTEMPTS = 3;
export const JOB_BACKOFF = { type: 'exponential', delay: 1000 } as const;

export interface QueueTiming {
  /** A job's lock (renewed at half of it while the worker lives); also the stalled-job check's period. */
  lockMs: number;
  heartbeatMs: number;
  /** How long a run waits for the server to take a result before it fails (Redis lost mid-run). */
  lossMs: number;
}

/** From the environment (tests shorten them); the defaults suit machines on one network. */
export function queueTiming(env: NodeJS.ProcessEnv = process.env): QueueTiming {
  const ms = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isInteger(value) || value < 100)
      throw new Error(`${name} must be a whole number of ms ≥ 100`);
    return value;
  };
  return {
    lockMs: ms('IOMMU_LAB_QUEUE_LOCK_MS', 30_000),
    heartbeatMs: ms('IOMMU_LAB_WORKER_HEARTBEAT_MS', 1_000),
    lossMs: ms('IOMMU_LAB_REDIS_LOSS_MS', 30_000),
  };
}
