import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, startServer } from '@iommu-lab/api/src/testing/harness';
import { ApiError, type IommuLabClient, createClient } from './index';
import type { ExperimentConfig, Preset, RunMessage } from './index';

describe('client: experiments, runs, comparison', () => {
  let server: Running;
  let client: IommuLabClient;
  let presets: Preset[];
  const configOf = (id: string, count = 300, seed = 1): ExperimentConfig => {
    const preset = presets.find((p) => p.id === id)!;
    const workload = structuredClone(preset.workload) as ExperimentConfig['workload'];
    for (const stream of workload.streams) stream.count = count;
    return { version: 1, system: preset.config as ExperimentConfig['system'], workload, seed };
  };

  beforeAll(async () => {
    server = await startServer();
    client = createClient({ baseUrl: server.url });
    presets = await client.presets();
  });
  afterAll(() => server.close());

  it('experiments: create, list by tag, get, update, export, import, delete; a bad config is EVALIDATION', async () => {
    const a = await client.experiments.create({
      name: 'pinned',
      tags: ['vm'],
      config: configOf('passthrough-pinned'),
    });
    const b = await client.experiments.create({
      name: 'map',
      tags: ['map'],
      config: configOf('passthrough-map'),
    });
    expect((await client.experiments.list({ tag: 'map' })).map((e) => e.id)).toEqual([b.id]);
    expect((await client.experiments.list()).map((e) => e.id)).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(await client.experiments.update(a.id, { description: 'all RAM pinned' })).toMatchObject({
      id: a.id,
      description: 'all RAM pinned',
    });
    expect((await client.experiments.get(a.id)).description).toBe('all RAM pinned');

    const file = await client.experiments.export(a.id);
    expect(file).toMatchObject({
      format: 'iommu-lab/experiment',
      version: 1,
      experiment: { name: 'pinned' },
    });
    const imported = await client.experiments.import(file);
    expect(imported).toMatchObject({
      name: 'pinned',
      tags: ['vm'],
      config: (await client.experiments.get(a.id)).config,
    });
    await expect(client.experiments.import({ ...file, version: 0 })).rejects.toMatchObject({
      status: 422,
      code: 'EVERSION',
      reason: 'too-old',
    });

    const bad = await client.experiments
      .create({ name: 'bad', config: { ...configOf('sva-pri-vtd'), workload: { streams: [] } } })
      .catch((error: unknown) => error);
    expect(bad).toBeInstanceOf(ApiError);
    expect(bad).toMatchObject({ status: 400, code: 'EVALIDATION' });
    expect((bad as ApiError).message).toContain('streams');

    await client.experiments.delete(a.id);
    await expect(client.experiments.get(a.id)).rejects.toMatchObject({
      code: 'ENOENT',
      reason: 'no-such-experiment',
    });
  });

  it('runs: start, progress on the websocket, waitFor, the fault log paged and downloaded', async () => {
    const experiment = await client.experiments.create({ name: 'sva', config: configOf('sva-pri-vtd', 400) });
    const started = await client.runs.start(experiment.id, { label: 'first' });
    expect(started).toMatchObject({ status: 'queued', label: 'first', seed: 1 });
    const messages: RunMessage[] = [];
    const run = await client.runs.waitFor(started, { onProgress: (message) => messages.push(message) });
    expect(run).toMatchObject({ id: started.id, status: 'done', progress: 1, transactions: 400 });
    expect(messages[0]).toMatchObject({ type: 'run', run: { id: started.id } });
    expect(messages.at(-1)).toMatchObject({ type: 'progress', status: 'done', progress: 1 });
    // Waiting for a run that has ended returns at once.
    expect((await client.runs.waitFor(run.id)).status).toBe('done');
    expect((await client.runs.list(experiment.id)).map((r) => r.id)).toEqual([run.id]);

    const requests = (run.metrics as { system: { faults: { pageRequests: number } } }).system.faults
      .pageRequests;
    expect(requests).toBeGreaterThan(0);
    expect(run.faultRecords).toBe(requests);
    const page = await client.runs.faults(run.id, { limit: 5 });
    expect(page.total).toBe(requests);
    expect(page.records.map((record) => record.seq)).toEqual([0, 1, 2, 3, 4]);
    const next = await client.runs.faults(run.id, { limit: 5, after: page.next });
    expect(next.records[0]!.seq).toBe(5);
    expect((await client.runs.faults(run.id, { kind: 'unrecoverable' })).total).toBe(0);

    const csv = await client.runs.download(run.id, 'csv');
    const lines = csv.trim().split('\n');
    // The flow record's fields, a hop a column.
    expect(lines[0]).toMatch(
      /^seq,timeNs,device,pasid,address,access,category,stage,kind,code,latencyNs,flow,/,
    );
    expect(lines[0]).toContain(',dispatchNs,handlerNs,');
    expect(lines).toHaveLength(requests + 1);
    const stream = await client.runs.downloadStream(run.id, 'jsonl', { code: 'SUCCESS' });
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
    const records = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { seq: number });
    expect(records).toHaveLength(requests);
    expect(records[0]).toEqual(page.records[0]);

    await expect(client.runs.get('nope')).rejects.toMatchObject({ status: 404, reason: 'no-such-run' });
    await expect(client.runs.waitFor('nope')).rejects.toMatchObject({ status: 404, code: 'ENOENT' });
  });

  it('compare: two seeds, metrics with deltas and ratios, config diff; fewer than two runs is refused', async () => {
    const experiment = await client.experiments.create({
      name: 'map',
      config: configOf('passthrough-map', 600),
    });
    const [one, two] = await Promise.all(
      [1, 2].map(async (seed) => client.runs.waitFor(await client.runs.start(experiment.id, { seed }))),
    );
    const compared = await client.compare([one!.id, two!.id]);
    expect(compared.runs.map((r) => r.id)).toEqual([one!.id, two!.id]);
    expect(compared.metrics.find((m) => m.path === '/system/transactions/completed')).toEqual({
      path: '/system/transactions/completed',
      group: 'system',
      scope: null,
      values: [600, 600],
      deltas: [0, 0],
      ratios: [1, 1],
    });
    expect(compared.configDiff).toEqual([{ path: '/seed', values: [1, 2] }]);
    await expect(client.compare([one!.id])).rejects.toMatchObject({
      status: 400,
      code: 'EVALIDATION',
      reason: 'too-few-runs',
    });
  });

  it('saveLab: a live lab built with the client becomes an experiment that runs', async () => {
    const lab = (await client.labs.create({ name: 'by hand' })).id;
    await client.iommus.create(lab, { id: 'vtd0', family: 'vtd', profile: 'seed-5.13' });
    await client.devices.create(lab, {
      id: 'nic0',
      iommu: 'vtd0',
      ats: true,
      pri: { capacity: 16 },
      pasidBits: 20,
      prgResponsePasidRequired: true,
    });
    await client.devices.enableFeature(lab, 'nic0', 'IOPF');
    await client.devices.enableFeature(lab, 'nic0', 'SVA');
    await client.processes.create(lab, { id: 'app' });
    await client.processes.mmap(lab, 'app', { address: '0x7f0000000000', size: '0x400000', prot: 'rw' });
    await client.devices.bind(lab, 'nic0', 'app');
    await expect(client.experiments.saveLab(lab, { name: 'no workload' })).rejects.toMatchObject({
      code: 'EINVAL',
      reason: 'no-workload',
    });
    const saved = await client.experiments.saveLab(lab, {
      name: 'by hand',
      seed: 3,
      workload: {
        streams: [
          {
            device: 'nic0',
            pasid: 1,
            pattern: 'sequential',
            base: '0x7f0000001000',
            workingSet: '0x100000',
            count: 50,
          },
        ],
      },
    });
    expect(saved.omitted).toEqual([]);
    const run = await client.runs.waitFor(await client.runs.start(saved.id));
    expect(run).toMatchObject({ status: 'done', seed: 3, transactions: 50 });
  });
});
