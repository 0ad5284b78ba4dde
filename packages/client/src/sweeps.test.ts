/**
 * Sweeps and traces (POST /experiments/:experiment/sweeps, GET /sweeps/:id, GET /runs/:run/trace): the
 * client methods and the CLI's `sweep` and `trace` commands, against a real server (local engine).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, startServer } from '@iommu-lab/api/src/testing/harness';
import {
  type ExperimentConfig,
  type IommuLabClient,
  type Preset,
  type SweepView,
  createClient,
} from './index';
import { spawnCli } from './testing/spawn-cli';

const cli = spawnCli;

describe('sweeps and traces', () => {
  let server: Running;
  let client: IommuLabClient;
  let presets: Preset[];
  const dir = mkdtempSync(join(tmpdir(), 'iommu-lab-sweeps-'));
  const experimentOf = async (id: string, count: number) => {
    const preset = presets.find((p) => p.id === id)!;
    const workload = structuredClone(preset.workload) as ExperimentConfig['workload'];
    for (const stream of workload.streams) stream.count = count;
    const config = {
      version: 1 as const,
      system: preset.config as ExperimentConfig['system'],
      workload,
      seed: 1,
    };
    return (await client.experiments.create({ name: `${id} sweep`, config })).id;
  };

  beforeAll(async () => {
    server = await startServer();
    client = createClient({ baseUrl: server.url });
    presets = await client.presets();
  });
  afterAll(() => server.close());

  it('sweeps.start → 202 with one run per value; sweeps.get and waitFor follow it to done; the runs compare', async () => {
    const experiment = await experimentOf('passthrough-map', 200);
    const started = await client.sweeps.start(experiment, {
      parameters: [{ path: '/system/devices/0/pri/capacity', values: [8, 16, 32] }],
      engine: 'local',
    });
    expect(started).toMatchObject({
      experimentId: experiment,
      engine: 'local',
      parameters: [{ path: '/system/devices/0/pri/capacity', values: [8, 16, 32] }],
    });
    expect(started.runs).toHaveLength(3);
    expect(['running', 'done']).toContain(started.status);

    const updates: SweepView[] = [];
    const sweep = await client.sweeps.waitFor(started, {
      onUpdate: (view) => updates.push(view),
      pollMs: 100,
    });
    expect(sweep.status).toBe('done');
    expect(updates.at(-1)).toEqual(sweep);
    expect(await client.sweeps.get(sweep.id)).toEqual(sweep);
    expect(sweep.runs.map((run) => run.status)).toEqual(['done', 'done', 'done']);
    expect(
      sweep.runs.map(
        (run) =>
          (run.config as { system: { devices: { pri: { capacity: number } }[] } }).system.devices[0]!.pri
            .capacity,
      ),
    ).toEqual([8, 16, 32]);

    const compared = await client.compare(sweep.runs.map((run) => run.id));
    expect(compared.configDiff).toEqual([{ path: '/system/devices/0/pri/capacity', values: [8, 16, 32] }]);
    await expect(client.sweeps.get('no-such-sweep')).rejects.toMatchObject({ status: 404, code: 'ENOENT' });
    await expect(
      client.sweeps.start(experiment, { parameters: [{ path: '/system/nothing/here', values: [1] }] }),
    ).rejects.toMatchObject({ status: 422 });
  });

  it('runs.trace → Chrome trace-event JSON with the run’s DMA and faults', async () => {
    const experiment = await experimentOf('sva-pri-vtd', 100);
    const run = await client.runs.waitFor(await client.runs.start(experiment));
    const trace = await client.runs.trace(run.id);
    expect(Array.isArray(trace.traceEvents)).toBe(true);
    expect(trace.traceEvents.length).toBeGreaterThan(100);
    for (const event of trace.traceEvents.slice(0, 50)) {
      expect(event).toHaveProperty('ph');
      expect(event).toHaveProperty('pid');
    }
    expect(trace.traceEvents.some((event) => event.ph === 'b')).toBe(true);
    await expect(client.runs.trace('no-such-run')).rejects.toMatchObject({ status: 404, code: 'ENOENT' });
  });

  it('CLI: sweep <experiment> --param path=v1,v2,… runs the sweep and prints the comparison', async () => {
    const experiment = await experimentOf('passthrough-map', 200);
    const text = await cli([
      '--url',
      server.url,
      'sweep',
      experiment,
      '--param',
      '/system/devices/0/pri/capacity=8,32',
      '--engine',
      'local',
    ]);
    expect(text.stderr).not.toMatch(/^error:/m);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('pri/capacity');
    expect(text.stdout).toContain('transactions completed');
    expect(text.stdout).toMatch(/\/system\/devices\/0\/pri\/capacity\s+8\s+32/);
    // One chart of the swept runs: a bar per run for the charted metric.
    expect(text.stdout).toContain('/system/dmaLatencyNs/p99\n');
    expect(text.stdout).toMatch(/^pri\.capacity=8 +█+▏?.* [\d,]+$/m);

    const json = await cli([
      '--url',
      server.url,
      '--json',
      'sweep',
      experiment,
      '--param',
      '/system/devices/0/pri/capacity=4,16',
    ]);
    expect(json.code).toBe(0);
    const output = JSON.parse(json.stdout) as { sweep: SweepView; compare: { configDiff: unknown[] } };
    expect(output.sweep.status).toBe('done');
    expect(output.sweep.runs).toHaveLength(2);
    expect(output.compare.configDiff).toEqual([{ path: '/system/devices/0/pri/capacity', values: [4, 16] }]);

    const refused = await cli(['--url', server.url, 'sweep', experiment, '--param', '/system/nothing=1']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: EINVAL: /m);
  });

  it('CLI: trace <run> --out file writes the trace for Perfetto', async () => {
    const experiment = await experimentOf('sva-pri-vtd', 50);
    const run = await client.runs.waitFor(await client.runs.start(experiment));
    const out = join(dir, 'run.trace.json');
    const result = await cli(['--url', server.url, 'trace', run.id, '--out', out]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('perfetto');
    const trace = JSON.parse(readFileSync(out, 'utf8')) as { traceEvents: unknown[] };
    expect(trace.traceEvents.length).toBeGreaterThan(0);
    const stdout = await cli(['--url', server.url, 'trace', run.id]);
    expect(stdout.code).toBe(0);
    expect((JSON.parse(stdout.stdout) as { traceEvents: unknown[] }).traceEvents).toHaveLength(
      trace.traceEvents.length,
    );
  });
});
