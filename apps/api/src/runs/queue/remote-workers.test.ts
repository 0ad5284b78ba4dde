/**
 * Issue 15: queue workers that do not share the server's database file. A real redis-server, the server
 * on one temporary directory (its database file there, no queue worker of its own) and two worker
 * processes in two other temporary directories, which have only REDIS_URL: runs go through the queue,
 * their results come back through Redis, and the server writes them.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, call, startServer } from '../../testing/harness';
import { REDIS_SERVER, requireDebianPackage } from '../../testing/debian-package';
import { type RedisProcess, startRedis } from '../../testing/redis';
import { type WorkerProcess, startWorkerProcess } from '../../testing/worker-process';
import { firstTouchExperiment, until, workerEnv } from '../../testing/queue';
import { KEYS, PROTOCOL } from './protocol';
import { redisOptions } from './redis-connection';

const API = '/api/v1';
const redisPackage = requireDebianPackage('queue workers on other machines', REDIS_SERVER);

/** Short enough for a test: a lost worker is noticed within ~1 s, its job put back within ~2 s. */
const TIMING = { lockMs: 2000, heartbeatMs: 200, lossMs: 5000 };

/**
 * A run's whole fault log as the API streams it (CSV, every column and the byte-exact records): its
 * digest, and whether its seqs are 0, 1, 2, … with none missing and none twice. Streamed, not held: a
 * long run's log is tens of MB.
 */
async function faultLog(
  server: Running,
  run: string,
): Promise<{ rows: number; inOrder: boolean; sha256: string }> {
  const response = await fetch(`${server.url}${API}/runs/${run}/faults?format=csv`);
  const hash = createHash('sha256');
  let rest = '';
  let rows = -1; // the header
  let inOrder = true;
  for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) {
    hash.update(chunk);
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      if (rows >= 0 && Number(line.slice(0, line.indexOf(','))) !== rows) inOrder = false;
      rows++;
    }
  }
  if (rest) rows++;
  return { rows, inOrder, sha256: hash.digest('hex') };
}

/** The same config and seed run on the server's own pool: the log a run must have. */
async function localReference(server: Running, experimentId: string) {
  const started = await call(server.url, 'POST', `${API}/experiments/${experimentId}/runs`, {
    engine: 'local',
  });
  const run = await until(
    'the local reference run',
    async () => (await call(server.url, 'GET', `${API}/runs/${started.body.id}`)).body,
    (run) => run.status !== 'queued' && run.status !== 'running',
  );
  expect(run.status).toBe('done');
  return { run, log: await faultLog(server, run.id) };
}

describe.skipIf(!redisPackage.present)('queue workers with only REDIS_URL', () => {
  let redis: RedisProcess;
  let server: Running;
  let workers: WorkerProcess[];

  beforeAll(async () => {
    redis = await startRedis();
    server = await startServer({ redisUrl: redis.url, queueWorker: false, queueTiming: TIMING });
    workers = await Promise.all([0, 1].map(() => startWorkerProcess(workerEnv(redis.url, TIMING))));
    await until(
      'both workers connected',
      async () => (await call(server.url, 'GET', `${API}/workers`)).body,
      (view) => view.workers.filter((w: { state: string }) => w.state === 'connected').length === 2,
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.all((workers ?? []).map((worker) => worker.stop()));
    await server?.close();
    await redis?.stop();
  });

  it('GET /workers lists both, with their machine, cores, concurrency and versions', async () => {
    const view = (await call(server.url, 'GET', `${API}/workers`)).body;
    expect(view.queue.state).toBe('ready');
    expect(view.workers.map((w: { id: string }) => w.id).sort()).toEqual(workers.map((w) => w.id).sort());
    for (const worker of view.workers)
      expect(worker).toMatchObject({
        state: 'connected',
        inServer: false,
        concurrency: 1,
        cores: expect.any(Number),
        pid: workers.find((w) => w.id === worker.id)!.pid,
        version: {
          protocol: PROTOCOL,
          configVersion: 1,
          emulator: expect.stringMatching(/^0\.1\.0\+[0-9a-f]{12}$/),
        },
      });
  });

  it('a sweep of 8 runs is done on both workers, each run with its whole fault log through the API, and the workers keep no files', async () => {
    const id = await firstTouchExperiment(server, 'sweep on two workers', { transactions: 1500 });
    const started = await call(server.url, 'POST', `${API}/experiments/${id}/sweeps`, {
      engine: 'bullmq',
      parameters: [
        { path: '/system/devices/0/pri/capacity', values: [4, 16, 64, 256] },
        { path: '/seed', values: [1, 2] },
      ],
    });
    expect(started.status).toBe(202);
    // Backpressure on the wire: a worker sends a run's next message only once the last is committed, so
    // the results stream never holds more than one per running run (two workers, one run each).
    const redisClient = new Redis(redisOptions(redis.url));
    let mostWaiting = 0;
    const sampler = setInterval(
      () => void redisClient.xlen(KEYS.results).then((n) => (mostWaiting = Math.max(mostWaiting, n))),
      10,
    );
    const sweep = await until(
      'the sweep',
      async () => (await call(server.url, 'GET', `${API}/sweeps/${started.body.id}`)).body,
      (sweep) => sweep.status !== 'running',
      120_000,
    );
    clearInterval(sampler);
    redisClient.disconnect();
    expect(mostWaiting).toBeGreaterThan(0);
    expect(mostWaiting).toBeLessThanOrEqual(2);
    expect(sweep.status).toBe('done');
    expect(sweep.runs).toHaveLength(8);
    // A worker beats at once when its runs change, and GET /workers reads the beats fresh: none is still
    // shown holding a run that ended (allowing only the ack's way back to the worker, a few ms).
    const idle = await until(
      'workers idle',
      async () => (await call(server.url, 'GET', `${API}/workers`)).body,
      (view) => view.workers.every((w: { runs: unknown[] }) => w.runs.length === 0),
      500,
    );
    expect(idle.workers).toHaveLength(2);
    const ids = workers.map((w) => w.id);
    for (const run of sweep.runs) {
      expect(run).toMatchObject({ status: 'done', engine: 'bullmq', transactions: 1500 });
      expect(ids).toContain(run.worker);
      expect(run.attempts).toMatchObject([
        { attempt: 1, worker: run.worker, recordsAtStart: 0, end: 'done' },
      ]);
      expect(run.faultRecords).toBeGreaterThan(0);
      expect(await faultLog(server, run.id)).toMatchObject({ rows: run.faultRecords, inOrder: true });
    }
    // Both workers ran some, and the sweep says how many each.
    expect(sweep.workers.map((w: { worker: string }) => w.worker).sort()).toEqual([...ids].sort());
    expect(sweep.workers.reduce((sum: number, w: { done: number }) => sum + w.done, 0)).toBe(8);
    // A point run on the server's own pool has the same log as the queue's run of it.
    const point = sweep.runs[0];
    const pointExperiment = await call(server.url, 'POST', `${API}/experiments`, {
      name: 'sweep point 0',
      config: point.config,
    });
    const reference = await localReference(server, pointExperiment.body.id);
    expect(await faultLog(server, point.id)).toEqual(reference.log);
    for (const worker of workers) expect(readdirSync(worker.dir)).toEqual([]);
  }, 180_000);

  it('a worker killed with SIGKILL mid-run: the run is interrupted with its records, resumed on the other worker, and ends with every record once', async () => {
    // Long enough to be killed in the middle, faulting all along: first touches of 4 KiB pages over 256 MiB.
    const id = await firstTouchExperiment(server, 'killed mid-run', {
      transactions: 300_000,
      spanMiB: 256,
      accessBytes: 4096,
    });
    const started = await call(server.url, 'POST', `${API}/experiments/${id}/runs`, { engine: 'bullmq' });
    const running = await until(
      'records on disk',
      async () => (await call(server.url, 'GET', `${API}/runs/${started.body.id}`)).body,
      (run) => run.status === 'running' && run.faultRecords > 0,
    );
    const victim = workers.find((w) => w.id === running.worker)!;
    const survivor = workers.find((w) => w !== victim)!;
    victim.kill('SIGKILL');
    await victim.exited;

    const interrupted = await until(
      'the run interrupted',
      async () => (await call(server.url, 'GET', `${API}/runs/${started.body.id}`)).body,
      (run) => run.status !== 'running' || run.attempts.length > 1,
    );
    // Noticed by the lost heartbeats (or, if the retry was quicker, by the retry taking over).
    expect(interrupted.attempts[0]).toMatchObject({ attempt: 1, worker: victim.id, end: 'lost' });
    const lostView = (await call(server.url, 'GET', `${API}/workers`)).body;
    expect(lostView.workers.find((w: { id: string }) => w.id === victim.id)?.state).toBe('lost');

    const done = await until(
      'the run resumed to its end',
      async () => (await call(server.url, 'GET', `${API}/runs/${started.body.id}`)).body,
      (run) => run.status === 'done' || run.status === 'failed',
      120_000,
    );
    expect(done.status).toBe('done');
    expect(done.worker).toBe(survivor.id);
    expect(done.attempts).toHaveLength(2);
    expect(done.attempts[1]).toMatchObject({ attempt: 2, worker: survivor.id, end: 'done' });
    expect(done.attempts[1].recordsAtStart).toBeGreaterThanOrEqual(running.faultRecords);

    const log = await faultLog(server, done.id);
    expect(log).toMatchObject({ rows: done.faultRecords, inOrder: true });
    // Byte for byte the log of the same run never interrupted.
    const reference = await localReference(server, id);
    expect(done.faultRecords).toBe(reference.run.faultRecords);
    expect(log).toEqual(reference.log);
  }, 240_000);
});
