/**
 * `npm run worker -w @iommu-lab/api`: a process that takes runs from the BullMQ queue (REDIS_URL) and
 * executes them on the same database file as the server (IOMMU_LAB_DB), one per core. Start as many as
 * the machine has room for; the server's own queue worker can be turned off with IOMMU_LAB_QUEUE_WORKER=off.
 */
import { availableParallelism } from 'node:os';
import { DatabaseOpenError, databaseFileFromEnv, openDatabase } from '@iommu-lab/db';
import { startQueueWorker } from './runs/job-engine';
import { RunManager } from './runs/run-manager';

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  console.error('REDIS_URL is not set: a queue worker needs the BullMQ queue on Redis.');
  process.exit(2);
}
const db = await openDatabase(databaseFileFromEnv(), { recover: false }).catch((error: unknown) => {
  if (!(error instanceof DatabaseOpenError)) throw error;
  console.error(error.message);
  process.exit(2);
});
const concurrency = Number(process.env.IOMMU_LAB_WORKER_CONCURRENCY ?? availableParallelism());
const log = {
  warn: (details: object, message: string) => console.warn(message, details),
  info: (details: object, message: string) => console.log(message, details),
  error: (details: object, message: string) => console.error(message, details),
};
const runs = new RunManager(db, concurrency, log);
const worker = startQueueWorker(redisUrl, runs, concurrency, log);
console.log(`iommu-lab queue worker: ${concurrency} runs at once from ${redisUrl}, data in ${db.file}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, async () => {
    await worker.close(true);
    await runs.close();
    await db.close();
    process.exit(0);
  });
