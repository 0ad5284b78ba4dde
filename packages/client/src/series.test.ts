import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, startServer } from '@iommu-lab/api/src/testing/harness';
import { ApiError, type ExperimentConfig, type IommuLabClient, createClient } from './index';

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe('client: metrics as series in simulated time', () => {
  let server: Running;
  let client: IommuLabClient;

  beforeAll(async () => {
    server = await startServer();
    client = createClient({ baseUrl: server.url });
  });
  afterAll(() => server.close());

  it("labSeries and runSeries answer the lab's and the run's series; too many bins is an ApiError 422", async () => {
    const preset = (await client.presets()).find((p) => p.id === 'sva-pri-vtd')!;
    const workload = structuredClone(preset.workload) as ExperimentConfig['workload'];
    for (const stream of workload.streams) stream.count = 30;

    const lab = (await client.labs.create({ preset: 'sva-pri-vtd' })).id;
    await client.workload(lab, { workload });
    const live = await client.labSeries(lab);
    expect(sum(live.series.faultRate.pageRequests)).toBeGreaterThan(0);
    const coarse = await client.labSeries(lab, live.binNs * 2);
    expect(coarse.binNs).toBe(live.binNs * 2);
    const refused = await client.labSeries(lab, 1).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 422, code: 'EINVAL', reason: 'too-many-bins' });

    const config = { version: 1, system: preset.config, workload, seed: 1 } as ExperimentConfig;
    const experiment = await client.experiments.create({ name: 'series', tags: [], config });
    const run = await client.runs.waitFor(await client.runs.start(experiment.id));
    expect(run.status).toBe('done');
    const stored = await client.runSeries(run.id);
    expect(sum(stored.series.faultRate.pageRequests)).toBe(sum(live.series.faultRate.pageRequests));
    expect((await client.runSeries(run.id, stored.binNs * 3)).binNs).toBe(stored.binNs * 3);
  });
});
