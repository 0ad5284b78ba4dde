import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, call, startServer } from '../testing/harness';
import { REDIS_SERVER, requireDebianPackage } from '../testing/debian-package';
import { serverOnQueue } from '../testing/redis';
import { QUEUE_NAME } from '../runs/queue/protocol';

interface Preset {
  id: string;
  config: { devices: { pri?: { capacity: number } }[] };
  workload: { streams: { count: number }[] };
}

async function experimentFrom(server: Running, presetId: string, count: number): Promise<string> {
  const presets = (await call(server.url, 'GET', '/api/v1/presets')).body as Preset[];
  const preset = presets.find((p) => p.id === presetId)!;
  preset.workload.streams[0]!.count = count;
  const created = await call(server.url, 'POST', '/api/v1/experiments', {
    name: `${presetId} sweep`,
    config: { version: 1, system: preset.config, workload: preset.workload, seed: 1 },
  });
  return created.body.id as string;
}

async function sweepToEnd(server: Running, id: string) {
  for (;;) {
    const sweep = (await call(server.url, 'GET', `/api/v1/sweeps/${id}`)).body;
    if (sweep.status !== 'running') return sweep;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('parameter sweeps on the local worker pool', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it('expands every combination into a labelled run with its own config, runs them all, and they compare', async () => {
    const experiment = await experimentFrom(server, 'passthrough-map', 300);
    const started = await call(server.url, 'POST', `/api/v1/experiments/${experiment}/sweeps`, {
      parameters: [
        { path: '/system/devices/0/pri/capacity', values: [4, 64] },
        { path: '/system/handlers/0/handler/pinBudgetPages', values: [256, 4096] },
      ],
    });
    expect(started.status).toBe(202);
    expect(started.body.engine).toBe('local');
    expect(started.body.runs.map((run: { label: string }) => run.label)).toEqual([
      'pri.capacity=4 handler.pinBudgetPages=256',
      'pri.capacity=4 handler.pinBudgetPages=4096',
      'pri.capacity=64 handler.pinBudgetPages=256',
      'pri.capacity=64 handler.pinBudgetPages=4096',
    ]);
    const sweep = await sweepToEnd(server, started.body.id);
    expect(sweep.status).toBe('done');
    for (const run of sweep.runs) {
      const [capacity, budget] = /capacity=(\d+) handler.pinBudgetPages=(\d+)/
        .exec(run.label)!
        .slice(1)
        .map(Number);
      expect(run.config.system.devices[0].pri.capacity).toBe(capacity);
      expect(run.config.system.handlers[0].handler.pinBudgetPages).toBe(budget);
      expect(run).toMatchObject({ status: 'done', transactions: 300 });
    }
    const ids = sweep.runs.map((run: { id: string }) => run.id).join(',');
    const compared = (await call(server.url, 'GET', `/api/v1/compare?runs=${ids}`)).body;
    expect(compared.configDiff.map((d: { path: string }) => d.path)).toEqual([
      '/system/devices/0/pri/capacity',
      '/system/handlers/0/handler/pinBudgetPages',
    ]);
  });

  it('a path outside the config, a value the schema refuses, or no queue configured: 422, and no run is created', async () => {
    const experiment = await experimentFrom(server, 'sva-pri-vtd', 10);
    const runsBefore = (await call(server.url, 'GET', `/api/v1/experiments/${experiment}/runs`)).body.length;
    const missing = await call(server.url, 'POST', `/api/v1/experiments/${experiment}/sweeps`, {
      parameters: [{ path: '/system/nothing/here', values: [1] }],
    });
    expect(missing.body).toMatchObject({ statusCode: 422, code: 'EINVAL', reason: 'no-such-path' });
    const invalid = await call(server.url, 'POST', `/api/v1/experiments/${experiment}/sweeps`, {
      parameters: [{ path: '/system/devices/0/pri/capacity', values: [8, -1] }],
    });
    expect(invalid.body).toMatchObject({ statusCode: 422, code: 'EINVAL', reason: 'invalid-point' });
    expect(invalid.body.message).toContain('pri.capacity=-1');
    const noQueue = await call(server.url, 'POST', `/api/v1/experiments/${experiment}/sweeps`, {
      parameters: [{ path: '/seed', values: [1, 2] }],
      engine: 'bullmq',
    });
    expect(noQueue.body).toMatchObject({ statusCode: 422, code: 'ENOENGINE' });
    expect((await call(server.url, 'GET', `/api/v1/experiments/${experiment}/runs`)).body.length).toBe(
      runsBefore,
    );
  });

  it('a run’s trace is Chrome trace-event JSON: device and IOMMU processes, DMA and faults as async slices', async () => {
    const experiment = await experimentFrom(server, 'sva-pri-vtd', 50);
    const run = (await call(server.url, 'POST', `/api/v1/experiments/${experiment}/runs`, {})).body;
    const response = await fetch(`${server.url}/api/v1/runs/${run.id}/trace`);
    expect(response.headers.get('content-disposition')).toContain('.trace.json');
    const trace = (await response.json()) as {
      traceEvents: {
        name: string;
        ph: string;
        ts?: number;
        dur?: number;
        pid: number;
        tid: number;
        args?: { name?: string };
      }[];
      metadata: { truncated: boolean };
    };
    expect(trace.metadata.truncated).toBe(false);
    const names = trace.traceEvents.filter((e) => e.ph === 'M').map((e) => e.args?.name);
    expect(names).toEqual(expect.arrayContaining(['device nic0', 'iommu vtd0']));
    const begun = (name: string) => trace.traceEvents.filter((e) => e.ph === 'b' && e.name === name);
    expect(begun('DMA · PASID 1')).toHaveLength(50);
    expect(begun('page requests · PASID 1').length).toBeGreaterThan(0);
    expect(begun('response SUCCESS').length).toBeGreaterThan(0);
    // Deterministic: the same run traced twice is the same trace.
    const again = await (await fetch(`${server.url}/api/v1/runs/${run.id}/trace`)).json();
    expect(again).toEqual(trace);
  });
});

const redisServer = requireDebianPackage('sweeps on BullMQ', REDIS_SERVER);

describe.skipIf(!redisServer.present)('parameter sweeps on BullMQ (a real redis-server)', () => {
  const onQueue = serverOnQueue();

  it('with a queue configured, sweeps go through it by default and every run completes', async () => {
    const { server } = onQueue;
    const experiment = await experimentFrom(server, 'sva-pri-vtd', 100);
    const started = await call(server.url, 'POST', `/api/v1/experiments/${experiment}/sweeps`, {
      parameters: [{ path: '/system/devices/0/pri/capacity', values: [2, 8, 32] }],
    });
    expect(started.body.engine).toBe('bullmq');
    const sweep = await sweepToEnd(server, started.body.id);
    expect(sweep.runs.map((run: { status: string }) => run.status)).toEqual(['done', 'done', 'done']);
    // Less PRI credit, more waiting for it.
    const waits = sweep.runs.map(
      (run: { metrics: { system: { faults: { creditWaits: number } } } }) =>
        run.metrics.system.faults.creditWaits,
    );
    expect(waits[0]).toBeGreaterThan(waits[2]);
  });

  it('a single run goes to the engine asked for: local by default, the queue on request', async () => {
    const { server } = onQueue;
    const experiment = await experimentFrom(server, 'sva-pri-vtd', 40);
    const queued = await call(server.url, 'POST', `/api/v1/experiments/${experiment}/runs`, {
      engine: 'bullmq',
      label: 'on the queue',
    });
    expect(queued.status).toBe(202);
    const local = await call(server.url, 'POST', `/api/v1/experiments/${experiment}/runs`, {});
    for (const id of [queued.body.id, local.body.id]) {
      let run = (await call(server.url, 'GET', `/api/v1/runs/${id}`)).body;
      while (run.status === 'queued' || run.status === 'running') {
        await new Promise((resolve) => setTimeout(resolve, 100));
        run = (await call(server.url, 'GET', `/api/v1/runs/${id}`)).body;
      }
      expect(run).toMatchObject({ status: 'done', transactions: 40 });
    }
    // The queue has the one run asked of it, and only that one.
    const queue = new Queue(QUEUE_NAME, {
      connection: { host: '127.0.0.1', port: Number(new URL(onQueue.redis.url).port) },
    });
    const jobs = await queue.getJobs(['completed', 'active', 'waiting']);
    await queue.close();
    expect(jobs.map((job) => job.id)).toContain(queued.body.id);
    expect(jobs.map((job) => job.id)).not.toContain(local.body.id);
  });
});
