/**
 * The server restarts while a queue worker on another machine is in the middle of a run (issue 15): the
 * worker waits for its acks (up to its bound), the restarted server reads what it had taken but not
 * acknowledged again, and the run ends done on its first attempt with its whole log, the same as a run
 * never disturbed. Runs of the queue are not marked interrupted at the server's start: they are not its to
 * interrupt while a worker holds them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, call, startServer } from '../../testing/harness';
import { REDIS_SERVER, requireDebianPackage } from '../../testing/debian-package';
import { type RedisProcess, startRedis } from '../../testing/redis';
import { type WorkerProcess, startWorkerProcess } from '../../testing/worker-process';
import { firstTouchExperiment, until, workerEnv } from '../../testing/queue';

const API = '/api/v1';
const redisPackage = requireDebianPackage('a server restart under a queue worker', REDIS_SERVER);
const TIMING = { lockMs: 2000, heartbeatMs: 200, lossMs: 20_000 };

const csv = async (server: Running, run: string) =>
  (await fetch(`${server.url}${API}/runs/${run}/faults?format=csv`)).text();

describe.skipIf(!redisPackage.present)('the server restarts under a running queue worker', () => {
  let redis: RedisProcess;
  let server: Running;
  let worker: WorkerProcess;

  beforeAll(async () => {
    redis = await startRedis();
    server = await startServer({ redisUrl: redis.url, queueWorker: false, queueTiming: TIMING });
    worker = await startWorkerProcess(workerEnv(redis.url, TIMING));
  }, 60_000);
  afterAll(async () => {
    await worker?.stop();
    await server?.close();
    await redis?.stop();
  });

  it('the run goes on, and ends done on its first attempt with the whole log of an undisturbed run', async () => {
    const experiment = await firstTouchExperiment(server, 'through a restart', {
      transactions: 100_000,
      spanMiB: 64,
      accessBytes: 4096,
    });
    const started = await call(server.url, 'POST', `${API}/experiments/${experiment}/runs`, {
      engine: 'bullmq',
    });
    await until(
      'records on disk',
      async () => (await call(server.url, 'GET', `${API}/runs/${started.body.id}`)).body,
      (run) => run.status === 'running' && run.faultRecords > 0,
    );
    const databaseFile = server.app.db.file;
    await server.close();
    server = await startServer({
      databaseFile,
      redisUrl: redis.url,
      queueWorker: false,
      queueTiming: TIMING,
    });
    const done = await until(
      'the run',
      async () => (await call(server.url, 'GET', `${API}/runs/${started.body.id}`)).body,
      (run) => run.status !== 'running' && run.status !== 'queued',
      120_000,
    );
    expect(done).toMatchObject({
      status: 'done',
      worker: worker.id,
      attempts: [{ attempt: 1, end: 'done' }],
    });

    const reference = await call(server.url, 'POST', `${API}/experiments/${experiment}/runs`, {
      engine: 'local',
    });
    const undisturbed = await until(
      'the reference',
      async () => (await call(server.url, 'GET', `${API}/runs/${reference.body.id}`)).body,
      (run) => run.status === 'done',
    );
    expect(done.faultRecords).toBe(undisturbed.faultRecords);
    expect(await csv(server, done.id)).toBe(await csv(server, undisturbed.id));
  }, 180_000);
});
