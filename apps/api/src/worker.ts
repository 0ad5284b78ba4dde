/**
 * `npm run worker -w @iommu-lab/api`: a queue worker on any machine that reaches the server's Redis. It
 * needs only REDIS_URL (redis://[:password@]host:port; the password is the token, Redis's `requirepass`):
 * no database file, no shared disk. It takes runs from the BullMQ queue, executes them in worker threads
 * (IOMMU_LAB_WORKER_CONCURRENCY at once, default one per core) and sends their results back through Redis
 * to the server, which writes them. Start as many as there are machines; README "More machines".
 */
import { availableParallelism } from 'node:os';
import { Redis } from 'ioredis';
import { QueueWorker } from './runs/queue/queue-worker';
import { queueTiming } from './runs/queue/policy';
import { redisOptions, where } from './runs/queue/redis-connection';

/** How long the worker tries to reach Redis at start before it gives up. */
const CONNECT_MS = 5000;

function refuse(message: string): never {
  console.error(`iommu-lab queue worker: ${message}`);
  process.exit(2);
}

const redisUrl = process.env.REDIS_URL;
if (!redisUrl)
  refuse("REDIS_URL is not set: a queue worker needs the server's Redis (e.g. redis://lab-server:6379).");
try {
  if (!/^rediss?:$/.test(new URL(redisUrl).protocol)) throw new Error('not redis:');
} catch {
  refuse(`REDIS_URL "${redisUrl}" is not a redis:// URL.`);
}
const concurrency = Number(process.env.IOMMU_LAB_WORKER_CONCURRENCY ?? availableParallelism());
if (!Number.isInteger(concurrency) || concurrency < 1)
  refuse(
    `IOMMU_LAB_WORKER_CONCURRENCY must be a whole number ≥ 1, not "${process.env.IOMMU_LAB_WORKER_CONCURRENCY}".`,
  );
let timing;
try {
  timing = queueTiming();
} catch (error) {
  refuse((error as Error).message);
}

// Redis must answer now: a worker that cannot reach it says so and stops, instead of waiting unseen.
const probe = new Redis({
  ...redisOptions(redisUrl),
  lazyConnect: true,
  retryStrategy: () => null,
  connectTimeout: CONNECT_MS,
});
// The connection's own error says why (ECONNREFUSED, ENOTFOUND, WRONGPASS); the rejection only that it closed.
let why: Error | undefined;
probe.on('error', (error: Error) => (why ??= error));
try {
  await probe.connect();
  await probe.ping();
} catch (error) {
  refuse(
    `cannot reach Redis at ${where(redisUrl)} (${(why ?? (error as Error)).message}): start it, or set REDIS_URL to the server's Redis.`,
  );
} finally {
  probe.disconnect();
}

const log = {
  warn: (details: object, message: string) => console.warn(message, details),
  info: (details: object, message: string) => console.log(message, details),
};
const worker = new QueueWorker({ redisUrl, concurrency, cores: availableParallelism(), log, timing });
await worker.start();
console.log(
  `iommu-lab queue worker ${worker.id}: ${concurrency} runs at once from Redis at ${where(redisUrl)}`,
);

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, async () => {
    await worker.close();
    process.exit(0);
  });
