/**
 * Queue workers from the client (issue 15): `client.workers()`, the CLI's `workers` table, and a sweep on
 * the queue that says which worker ran each run and charts the runs per worker; against a real server on a
 * real redis-server (its own queue worker).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, startServer } from '@iommu-lab/api/src/testing/harness';
import { REDIS_SERVER, requireDebianPackage } from '@iommu-lab/api/src/testing/debian-package';
import { type RedisProcess, startRedis } from '@iommu-lab/api/src/testing/redis';
import {
  type ExperimentConfig,
  type IommuLabClient,
  type Preset,
  type WorkersView,
  createClient,
} from './index';
import { spawnCli } from './testing/spawn-cli';

const redisPackage = requireDebianPackage('the CLI on queue workers', REDIS_SERVER);

const cli = (url: string, args: string[]) => spawnCli(['--url', url, ...args]);

describe('a server without a queue', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it('has no workers, and the CLI says why', async () => {
    expect(await createClient({ baseUrl: server.url }).workers()).toEqual({ queue: null, workers: [] });
    const text = await cli(server.url, ['workers']);
    expect(text).toMatchObject({
      code: 0,
      stdout: 'No job queue: the server has no REDIS_URL, so there are no queue workers.\n',
    });
  });
});

describe.skipIf(!redisPackage.present)('the CLI and the client on queue workers', () => {
  let redis: RedisProcess;
  let server: Running;
  let client: IommuLabClient;

  beforeAll(async () => {
    redis = await startRedis();
    server = await startServer({ redisUrl: redis.url, parallelRuns: 1 });
    client = createClient({ baseUrl: server.url });
    const deadline = Date.now() + 20_000;
    while ((await client.workers()).workers.length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await redis?.stop();
  });

  it('workers: the server’s own queue worker, connected, as JSON and as a table', async () => {
    const json = await cli(server.url, ['--json', 'workers']);
    expect(json.code).toBe(0);
    const view = JSON.parse(json.stdout) as WorkersView;
    expect(view.queue).toEqual({ state: 'ready' });
    expect(view.workers).toMatchObject([{ state: 'connected', inServer: true, concurrency: 1, runs: [] }]);
    const text = await cli(server.url, ['workers']);
    const [queue, header, , row] = text.stdout.split('\n');
    expect(queue).toBe('queue: ready');
    expect(header).toMatch(
      /^worker\s+state\s+machine\s+cores\s+runs at once\s+emulator\s+last heartbeat\s+running$/,
    );
    expect(row).toMatch(
      new RegExp(
        `^${view.workers[0]!.id}\\s+connected\\s+server\\s+\\d+\\s+1\\s+0\\.1\\.0\\+[0-9a-f]{12}\\s+\\d+ s ago\\s+-$`,
      ),
    );
  });

  it('sweep on the queue: each run names its worker, and the runs done per worker are charted', async () => {
    const presets: Preset[] = await client.presets();
    const preset = presets.find((p) => p.id === 'sva-pri-vtd')!;
    const workload = structuredClone(preset.workload) as ExperimentConfig['workload'];
    workload.streams[0]!.count = 200;
    const experiment = await client.experiments.create({
      name: 'on the queue',
      config: { version: 1, system: preset.config as ExperimentConfig['system'], workload, seed: 1 },
    });
    const { id } = (await client.workers()).workers[0]!;
    const out = await cli(server.url, [
      'sweep',
      experiment.id,
      '--engine',
      'bullmq',
      '--param',
      '/system/devices/0/pri/capacity=4,16,64',
    ]);
    expect(out.code).toBe(0);
    const lines = out.stdout.split('\n');
    expect(lines[0]).toMatch(/\bstatus\s+worker\b/);
    expect(lines.filter((line) => new RegExp(`\\sdone\\s+${id}\\s`).test(line))).toHaveLength(3);
    const chart = lines.indexOf('runs done per worker');
    expect(chart).toBeGreaterThan(0);
    expect(lines[chart + 1]).toMatch(new RegExp(`^${id}\\s+█+\\s+3$`));
  }, 120_000);
});
