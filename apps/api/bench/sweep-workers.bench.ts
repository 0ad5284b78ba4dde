/**
 * Issue 15: a 16-run sweep on queue worker processes that have only REDIS_URL (each one run at a time),
 * on 1 and on 2 processes, and on the server's own pool of one (the same runs without Redis between):
 * runs per second, 3 rounds alternating. Ratios: 2 processes against 1 (what a second worker gives on
 * this machine's two cores, where the server also writes every record), and 1 process against the local
 * pool of one (what sending results through Redis costs). Each configuration starts fresh and is warmed
 * by a small sweep, so that all measure warm worker threads. Needs Debian's redis-server.
 */
import { reportRuns } from '@iommu-lab/bench-report';
import { findBinary } from '../src/testing/debian-package';
import { startRedis } from '../src/testing/redis';
import { type WorkerProcess, startWorkerProcess } from '../src/testing/worker-process';
import { type BenchServer, benchServer } from './bench-server';
import { timeSweep } from './sweep-run';

const CAPACITIES = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256];
const ROUNDS = 3;
const TRANSACTIONS = 200_000;

/** Runs per second of one sweep. */
async function sweep(
  app: BenchServer,
  what: string,
  capacities: number[],
  count: number,
  engine: 'local' | 'bullmq',
) {
  return capacities.length / (await timeSweep(app, { what, capacities, count, engine }));
}

export async function sweepWorkersBench(): Promise<void> {
  if (!findBinary('redis-server')) {
    console.log(
      'sweep-workers: skipped, it needs redis-server (Debian package redis-server: apt-get install redis-server)',
    );
    return;
  }
  const redis = await startRedis();
  const server = await benchServer({ redisUrl: redis.url, queueWorker: false });
  const local = await benchServer({ parallelRuns: 1 });
  const env = { REDIS_URL: redis.url, IOMMU_LAB_WORKER_CONCURRENCY: '1' };
  /** Runs/s of the sweep on `n` fresh worker processes, warmed first. */
  const onWorkers = async (n: number) => {
    const workers: WorkerProcess[] = await Promise.all(
      Array.from({ length: n }, () => startWorkerProcess(env)),
    );
    try {
      await sweep(server, `warming ${n}`, CAPACITIES.slice(0, n), 100, 'bullmq');
      return await sweep(
        server,
        `${n} worker process${n > 1 ? 'es' : ''}`,
        CAPACITIES,
        TRANSACTIONS,
        'bullmq',
      );
    } finally {
      await Promise.all(workers.map((worker) => worker.stop()));
    }
  };
  await sweep(local, 'warming the local pool', CAPACITIES.slice(0, 1), 100, 'local');
  const runs: { two: number[]; one: number[]; local: number[] } = { two: [], one: [], local: [] };
  for (let round = 0; round < ROUNDS; round++) {
    runs.two.push(await onWorkers(2));
    runs.one.push(await onWorkers(1));
    runs.local.push(await sweep(local, 'local pool of 1', CAPACITIES, TRANSACTIONS, 'local'));
  }
  await server.close();
  await local.close();
  await redis.stop();
  const note = `${CAPACITIES.length} runs of ${TRANSACTIONS.toLocaleString('en-US')} transactions (sva-pri-vtd), each worker one run at a time, the server on the same two cores`;
  reportRuns({
    name: 'api-sweep-2-vs-1-worker-processes',
    unit: 'runs/s',
    runs: runs.two,
    baselineRuns: runs.one,
    better: 'higher',
    note: `${note}; baseline: 1 worker process; ratio: what the second process gives`,
  });
  reportRuns({
    name: 'api-sweep-1-worker-process-vs-local-pool',
    unit: 'runs/s',
    runs: runs.one,
    baselineRuns: runs.local,
    better: 'higher',
    note: `${note}; baseline: the server's own pool of 1 (no Redis between); ratio: the cost of results through Redis`,
  });
}
