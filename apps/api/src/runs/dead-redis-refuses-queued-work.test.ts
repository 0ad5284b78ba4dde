/**
 * REDIS_URL pointing at nothing (a free port, nothing listening): the server starts, says so once at warn,
 * reports the queue on /healthz, and refuses work that needs the queue with 503 EQUEUE within seconds,
 * saving nothing; local runs and labs are unaffected.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_SERVER, requireDebianPackage } from '../testing/debian-package';
import { type Running, call, freePort, startServer } from '../testing/harness';
import { type RedisProcess, startRedis } from '../testing/redis';

const API = '/api/v1';

describe('a job queue whose Redis is not there', () => {
  let server: Running;
  const lines: { level: number; msg: string }[] = [];
  const log = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  let experiment: string;

  beforeAll(async () => {
    server = await startServer({
      redisUrl: `redis://127.0.0.1:${await freePort()}`,
      logger: { level: 'info', stream: log },
    });
    const presets = (await call(server.url, 'GET', `${API}/presets`)).body as {
      id: string;
      config: object;
      workload: { streams: { count: number }[] };
    }[];
    const preset = presets.find((p) => p.id === 'sva-pri-vtd')!;
    preset.workload.streams[0]!.count = 20;
    experiment = (
      await call(server.url, 'POST', `${API}/experiments`, {
        name: 'needs a queue',
        config: { version: 1, system: preset.config, workload: preset.workload, seed: 1 },
      })
    ).body.id;
  });
  afterAll(() => server?.close());

  const runCount = async () =>
    (await call(server.url, 'GET', `${API}/experiments/${experiment}/runs`)).body.length;

  it('/healthz says the queue is unreachable, and why', async () => {
    const deadline = Date.now() + 10_000;
    let health = (await call(server.url, 'GET', '/healthz')).body;
    while (health.queue.state === 'connecting' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      health = (await call(server.url, 'GET', '/healthz')).body;
    }
    expect(health).toMatchObject({
      status: 'degraded',
      queue: {
        state: 'unreachable',
        error: expect.stringContaining('ECONNREFUSED'),
        failures: expect.any(Number),
      },
    });
  });

  it('a sweep on the queue (the default with REDIS_URL) gets 503 EQUEUE, and no sweep or run is saved', async () => {
    const before = await runCount();
    const sweeps = await server.app.db.prisma.sweep.count();
    const refused = await call(server.url, 'POST', `${API}/experiments/${experiment}/sweeps`, {
      parameters: [{ path: '/system/devices/0/pri/capacity', values: [2, 8] }],
    });
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ statusCode: 503, code: 'EQUEUE', reason: 'queue-unreachable' });
    expect(refused.body.message).toMatch(
      /^the job queue \(Redis at 127\.0\.0\.1:\d+\) is unreachable \(.*ECONNREFUSED.*\); try again later, or use engine "local"\.$/,
    );
    expect(await runCount()).toBe(before);
    expect(await server.app.db.prisma.sweep.count()).toBe(sweeps);
  });

  it('a single run asked of the queue gets 503 EQUEUE and is not saved; on the local engine it runs', async () => {
    const before = await runCount();
    const refused = await call(server.url, 'POST', `${API}/experiments/${experiment}/runs`, {
      engine: 'bullmq',
    });
    expect(refused.body).toMatchObject({ statusCode: 503, code: 'EQUEUE' });
    expect(await runCount()).toBe(before);

    const local = await call(server.url, 'POST', `${API}/experiments/${experiment}/runs`, {});
    expect(local.status).toBe(202);
    const deadline = Date.now() + 30_000;
    let view = local.body;
    while ((view.status === 'queued' || view.status === 'running') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      view = (await call(server.url, 'GET', `${API}/runs/${local.body.id}`)).body;
    }
    expect(view).toMatchObject({ status: 'done', transactions: 20 });
  });

  it('the connection problem is logged once, at warn, however many times ioredis retried', async () => {
    const deadline = Date.now() + 20_000;
    while ((await call(server.url, 'GET', '/healthz')).body.queue.failures < 3) {
      if (Date.now() > deadline) throw new Error('ioredis did not retry three times');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const warnings = lines.filter((line) => line.level === 40 && /Redis at/.test(line.msg));
    expect(warnings.map((line) => line.msg)).toEqual([
      expect.stringMatching(
        /^the job queue: Redis at 127\.0\.0\.1:\d+ is unreachable; runs on the bullmq engine are refused until it is back$/,
      ),
    ]);
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
  });
});

const redisServer = requireDebianPackage('Redis going away under a live server', REDIS_SERVER);

describe.skipIf(!redisServer.present)(
  'a job queue whose Redis goes away (a real redis-server, stopped)',
  () => {
    let redis: RedisProcess;
    let server: Running;
    beforeAll(async () => {
      redis = await startRedis();
      server = await startServer({ redisUrl: redis.url, queueWorker: false });
    });
    afterAll(() => server?.close());

    it('a sweep sent just after Redis stops is refused with EQUEUE and leaves no sweep and no run behind', async () => {
      const deadline = Date.now() + 10_000;
      while ((await call(server.url, 'GET', '/healthz')).body.queue.state !== 'ready') {
        if (Date.now() > deadline) throw new Error('the queue never became ready');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const presets = (await call(server.url, 'GET', `${API}/presets`)).body as {
        id: string;
        config: object;
        workload: object;
      }[];
      const preset = presets.find((p) => p.id === 'sva-pri-vtd')!;
      const experiment = (
        await call(server.url, 'POST', `${API}/experiments`, {
          name: 'queue goes away',
          config: { version: 1, system: preset.config, workload: preset.workload, seed: 1 },
        })
      ).body.id;
      await redis.stop();
      // Whether the engine has noticed yet (refused before saving) or finds out when it adds the jobs (the
      // saved sweep is removed), the answer and what is left are the same.
      const refused = await call(server.url, 'POST', `${API}/experiments/${experiment}/sweeps`, {
        parameters: [{ path: '/system/devices/0/pri/capacity', values: [2, 8] }],
      });
      expect(refused.body).toMatchObject({ statusCode: 503, code: 'EQUEUE' });
      expect((await call(server.url, 'GET', `${API}/experiments/${experiment}/runs`)).body).toEqual([]);
      expect(await server.app.db.prisma.sweep.count()).toBe(0);
    });
  },
);
