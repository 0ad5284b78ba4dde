/**
 * Issue 15, bad input and faults of the environment around queue workers: a worker that cannot reach
 * Redis at start says so and exits; a job of another version is refused with a reason the server
 * records, retried per the policy, then failed; a Redis lost mid-run fails the run with a reason after
 * the bounded wait, every record committed before it kept, and the worker goes on.
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPERIMENT_CONFIG_VERSION } from '@iommu-lab/wire';
import { type Running, call, freePort, startServer } from '../../testing/harness';
import { REDIS_SERVER, requireDebianPackage } from '../../testing/debian-package';
import { type RedisProcess, startRedis } from '../../testing/redis';
import { type WorkerProcess, startWorkerProcess } from '../../testing/worker-process';
import { firstTouchExperiment, until, workerEnv } from '../../testing/queue';
import { JOB_ATTEMPTS } from './policy';
import { ownVersion, QUEUE_NAME, type RunJob } from './protocol';
import { redisOptions } from './redis-connection';

const API = '/api/v1';
const redisPackage = requireDebianPackage('queue workers: faults', REDIS_SERVER);
const TIMING = { lockMs: 2000, heartbeatMs: 200, lossMs: 1500 };

describe('a worker without a Redis to reach', () => {
  it('exits with status 2 and a sentence naming the address, within seconds', async () => {
    const port = await freePort();
    const started = Date.now();
    const failed = await startWorkerProcess({ REDIS_URL: `redis://127.0.0.1:${port}` }).then(
      () => null,
      (error: Error) => error.message,
    );
    expect(failed).toMatch(
      new RegExp(
        `exited \\(2\\) before it started: iommu-lab queue worker: cannot reach Redis at 127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\): start it, or set REDIS_URL to the server's Redis\\.`,
      ),
    );
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('without REDIS_URL, or with one that is not redis://, it says so and exits 2', async () => {
    expect(await startWorkerProcess({}).catch((error: Error) => error.message)).toMatch(
      /exited \(2\) before it started: iommu-lab queue worker: REDIS_URL is not set/,
    );
    expect(
      await startWorkerProcess({ REDIS_URL: 'http://x' }).catch((error: Error) => error.message),
    ).toMatch(/REDIS_URL "http:\/\/x" is not a redis:\/\/ URL\./);
  });
});

describe.skipIf(!redisPackage.present)(
  'queue workers and a Redis that goes away, or jobs of another version',
  () => {
    let redis: RedisProcess;
    let server: Running;
    let worker: WorkerProcess;
    let experiment: string;

    beforeAll(async () => {
      redis = await startRedis();
      server = await startServer({ redisUrl: redis.url, queueWorker: false, queueTiming: TIMING });
      worker = await startWorkerProcess(workerEnv(redis.url, TIMING));
      // First touches of 4 KiB pages over 256 MiB: faulting all along, several seconds a run.
      experiment = await firstTouchExperiment(server, 'long', {
        transactions: 300_000,
        spanMiB: 256,
        accessBytes: 4096,
      });
    }, 60_000);
    afterAll(async () => {
      await worker?.stop();
      await server?.close();
      await redis?.stop();
    });

    it('a job that needs other versions is refused by the worker, each refusal recorded; the queue gives up after its attempts and the run fails with the reason', async () => {
      // What a server of another emulator build queues (the server itself always queues its own versions).
      const run = await server.app.db.runs.create({
        experimentId: experiment,
        seed: 1,
        label: 'from a newer server',
        config: {},
        engine: 'bullmq',
      });
      const queue = new Queue<RunJob>(QUEUE_NAME, { connection: redisOptions(redis.url) });
      const needs = { ...ownVersion(), emulator: '9.9.9+000000000000' };
      expect(needs.configVersion).toBe(EXPERIMENT_CONFIG_VERSION);
      await queue.add(
        'run',
        { run: run.id, config: {} as never, seed: 1, needs },
        { jobId: run.id, attempts: JOB_ATTEMPTS, backoff: { type: 'fixed', delay: 100 } },
      );
      await queue.close();
      const failed = await until(
        'the run given up',
        async () => (await call(server.url, 'GET', `${API}/runs/${run.id}`)).body,
        (view) => view.status !== 'queued',
      );
      const reason = `this worker's versions differ from the server's: emulator ${ownVersion().emulator} (the job needs 9.9.9+000000000000); run a worker of the server's version`;
      expect(failed).toMatchObject({
        status: 'failed',
        error: `the job queue gave up on the run after ${JOB_ATTEMPTS} attempts: ${reason}`,
        faultRecords: 0,
      });
      expect(failed.attempts).toHaveLength(JOB_ATTEMPTS);
      for (const [i, attempt] of failed.attempts.entries())
        expect(attempt).toMatchObject({ attempt: i + 1, worker: worker.id, end: 'refused', reason });
    }, 60_000);

    it('Redis stops answering mid-run for longer than the bound: the run fails with that reason, its committed records kept; the worker stays and takes the next run', async () => {
      const started = await call(server.url, 'POST', `${API}/experiments/${experiment}/runs`, {
        engine: 'bullmq',
      });
      const running = await until(
        'records on disk',
        async () => (await call(server.url, 'GET', `${API}/runs/${started.body.id}`)).body,
        (run) => run.status === 'running' && run.faultRecords > 0,
      );
      process.kill(redis.pid, 'SIGSTOP');
      await new Promise((resolve) => setTimeout(resolve, TIMING.lossMs + 1500));
      process.kill(redis.pid, 'SIGCONT');
      const failed = await until(
        'the run failed',
        async () => (await call(server.url, 'GET', `${API}/runs/${started.body.id}`)).body,
        (run) => run.status !== 'running',
      );
      expect(failed.status).toBe('failed');
      expect(failed.error).toMatch(
        new RegExp(
          `^Redis at 127\\.0\\.0\\.1:\\d+ took no result of this run for ${TIMING.lossMs / 1000} s \\(unreachable, or the server is not reading\\); \\d+ fault records of this run are on disk\\.$`,
        ),
      );
      expect(failed.faultRecords).toBeGreaterThanOrEqual(running.faultRecords);
      const onDisk = Number(/; (\d+) fault records/.exec(failed.error)![1]);
      expect(failed.faultRecords).toBe(onDisk);
      expect(failed.attempts).toMatchObject([{ attempt: 1, worker: worker.id, end: 'failed' }]);

      // The worker is still there, connected, and runs the next one to its end.
      expect(worker.child.exitCode).toBeNull();
      const next = await call(server.url, 'POST', `${API}/experiments/${experiment}/runs`, {
        engine: 'bullmq',
      });
      const done = await until(
        'the next run',
        async () => (await call(server.url, 'GET', `${API}/runs/${next.body.id}`)).body,
        (run) => run.status !== 'queued' && run.status !== 'running',
        120_000,
      );
      expect(done).toMatchObject({ status: 'done', worker: worker.id });
      const view = (await call(server.url, 'GET', `${API}/workers`)).body;
      expect(view.workers).toMatchObject([{ id: worker.id, state: 'connected' }]);
    }, 180_000);
  },
);
