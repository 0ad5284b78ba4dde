import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { FAULT_COLUMNS, HOP_COLUMNS } from '@iommu-lab/db';
import { type Running, StreamClient, call, startServer, wsUrl } from '../testing/harness';

interface Preset {
  id: string;
  config: object;
  workload: { streams: { count: number }[] };
}

describe('experiments and runs', () => {
  let server: Running;
  let presets: Preset[];
  const api = (method: string, path: string, body?: unknown) =>
    call(server.url, method, `/api/v1${path}`, body);
  const configOf = (id: string, count = 300, seed = 1) => {
    const preset = presets.find((p) => p.id === id)!;
    const workload = structuredClone(preset.workload);
    for (const stream of workload.streams) stream.count = count;
    return { version: 1, system: preset.config, workload, seed };
  };
  const newExperiment = async (name: string, config: object, tags: string[] = []) => {
    const created = await api('POST', '/experiments', { name, tags, config });
    expect(created.status).toBe(201);
    return created.body.id as string;
  };
  /** Waits for a run to end on its websocket; returns every message. */
  const follow = (run: string) =>
    new Promise<Record<string, unknown>[]>((resolve, reject) => {
      const messages: Record<string, unknown>[] = [];
      const socket = new WebSocket(wsUrl(server.url, `/api/v1/runs/${run}/stream`));
      socket.on('message', (raw) => messages.push(JSON.parse(String(raw)) as Record<string, unknown>));
      socket.on('close', () => resolve(messages));
      socket.on('error', reject);
    });
  const runToEnd = async (experiment: string, body: object = {}) => {
    const started = await api('POST', `/experiments/${experiment}/runs`, body);
    expect(started.status).toBe(202);
    await follow(started.body.id);
    return (await api('GET', `/runs/${started.body.id}`)).body;
  };

  beforeAll(async () => {
    server = await startServer();
    presets = (await api('GET', '/presets')).body;
  });
  afterAll(() => server.close());

  it('CRUD: create, list (newest first, by tag), get, patch, delete; unknown ids are 404', async () => {
    const a = await newExperiment('pinned', configOf('passthrough-pinned'), ['vm']);
    const b = await newExperiment('on demand', configOf('passthrough-map'), ['vm', 'map']);
    const listed = await api('GET', '/experiments');
    expect(listed.body.slice(0, 2).map((e: { id: string }) => e.id)).toEqual([b, a]);
    expect((await api('GET', '/experiments?tag=map')).body.map((e: { id: string }) => e.id)).toEqual([b]);
    const patched = await api('PATCH', `/experiments/${a}`, { description: 'all RAM pinned' });
    expect(patched.body).toMatchObject({ id: a, name: 'pinned', description: 'all RAM pinned', runs: 0 });
    expect((await api('GET', `/experiments/${a}`)).body.description).toBe('all RAM pinned');
    expect((await api('DELETE', `/experiments/${a}`)).status).toBe(204);
    expect((await api('GET', `/experiments/${a}`)).body).toMatchObject({
      code: 'ENOENT',
      reason: 'no-such-experiment',
    });
    expect((await api('GET', '/runs/nope')).status).toBe(404);
    expect((await api('GET', '/sweeps/nope')).body).toMatchObject({
      code: 'ENOENT',
      reason: 'no-such-sweep',
    });
    expect((await api('GET', '/runs/nope/trace')).status).toBe(404);
    await expect(StreamClient.open(wsUrl(server.url, '/api/v1/runs/nope/stream'))).rejects.toThrow(
      'HTTP 404',
    );
  });

  it('a config the emulator would refuse is refused at save time, with the path, and nothing is saved', async () => {
    const before = (await api('GET', '/experiments')).body.length;
    const bad = { ...configOf('sva-pri-vtd'), workload: { streams: [] } };
    const refused = await api('POST', '/experiments', { name: 'x', config: bad });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'EVALIDATION' });
    expect(refused.body.message).toContain('streams');
    expect((await api('GET', '/experiments')).body.length).toBe(before);
  });

  it('export then import gives the same experiment; foreign, old and malformed files are refused and write nothing', async () => {
    const id = await newExperiment('round trip', configOf('sva-pri-vtd'), ['sva']);
    const exported = await fetch(`${server.url}/api/v1/experiments/${id}/export`);
    expect(exported.headers.get('content-disposition')).toContain('round-trip.iommu-lab.json');
    const file = (await exported.json()) as Record<string, unknown>;
    const imported = await api('POST', '/experiments/import', file);
    expect(imported.status).toBe(201);
    const original = (await api('GET', `/experiments/${id}`)).body;
    expect(imported.body).toMatchObject({
      name: original.name,
      tags: original.tags,
      config: original.config,
    });
    expect(imported.body.id).not.toBe(id);

    const before = (await api('GET', '/experiments')).body.length;
    const foreign = await api('POST', '/experiments/import', { name: 'some other tool', data: [1, 2] });
    expect(foreign.body).toMatchObject({ statusCode: 422, code: 'EFORMAT', reason: 'not-an-experiment' });
    const old = await api('POST', '/experiments/import', { ...file, version: 0 });
    expect(old.body).toMatchObject({ statusCode: 422, code: 'EVERSION', reason: 'too-old' });
    const malformed = structuredClone(file) as { experiment: { config: { workload?: unknown } } };
    delete malformed.experiment.config.workload;
    const refused = await api('POST', '/experiments/import', malformed);
    expect(refused.body).toMatchObject({ statusCode: 422, code: 'EFORMAT', reason: 'malformed' });
    expect(refused.body.message).toContain('workload');
    const garbage = await call(
      server.url,
      'POST',
      '/api/v1/experiments/import',
      '{"format": "iommu-lab/exp',
      {
        'content-type': 'application/json',
      },
    );
    expect(garbage.status).toBe(400);
    expect((await api('GET', '/experiments')).body.length).toBe(before);
  });

  it('a run executes in the background with progress on its websocket, and stores metrics, histograms and its fault log', async () => {
    const id = await newExperiment('sva', configOf('sva-pri-vtd', 400));
    const started = await api('POST', `/experiments/${id}/runs`, { label: 'first' });
    expect(started.body).toMatchObject({ status: 'queued', label: 'first', seed: 1, faultRecords: 0 });
    const messages = await follow(started.body.id);
    expect(messages[0]).toMatchObject({ type: 'run' });
    const last = messages.at(-1)!;
    expect(last).toMatchObject({ type: 'progress', status: 'done', progress: 1 });

    const run = (await api('GET', `/runs/${started.body.id}`)).body;
    expect(run).toMatchObject({ status: 'done', progress: 1, transactions: 400, totalTransactions: 400 });
    expect(run.metrics.system.transactions.completed).toBe(400);
    expect(Object.keys(run.histograms)).toEqual(
      expect.arrayContaining(['dmaLatencyNs', 'faultLatencyNs', 'translationLatencyNs']),
    );
    // Every page request of the run is in its log, answered.
    const requests = run.metrics.system.faults.pageRequests as number;
    expect(run.faultRecords).toBe(requests);
    const page = (await api('GET', `/runs/${run.id}/faults?limit=5`)).body;
    expect(page.total).toBe(requests);
    expect(page.records.map((r: { seq: number }) => r.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(page.records[0]).toMatchObject({
      kind: 'page-request',
      category: 'BIND',
      stage: 1,
      code: 'SUCCESS',
      outcome: 'resumed',
      handler: 'sva',
    });
    // Each record is one fault flow: its hops (null where they did not apply) sum to its latency.
    const hopColumns = HOP_COLUMNS as readonly string[];
    for (const record of page.records as Record<string, number | null>[]) {
      const hops = hopColumns.reduce((sum, column) => sum + (record[column] ?? 0), 0);
      expect(hops).toBe(record.latencyNs);
      expect(record.endNs! - record.timeNs!).toBe(record.latencyNs);
      expect(record.creditWaitNs).toBeNull();
    }
    const next = (await api('GET', `/runs/${run.id}/faults?limit=5&after=${page.next}`)).body;
    expect(next.records[0].seq).toBe(5);
    const writes = (await api('GET', `/runs/${run.id}/faults?code=SUCCESS&device=nic0&limit=1`)).body;
    expect(writes.total).toBe(requests);
    expect((await api('GET', `/runs/${run.id}/faults?kind=unrecoverable`)).body.total).toBe(0);

    const csv = await (await fetch(`${server.url}/api/v1/runs/${run.id}/faults?format=csv`)).text();
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe(FAULT_COLUMNS.join(','));
    expect(lines[0]).toMatch(
      /^seq,timeNs,device,pasid,address,access,category,stage,kind,code,latencyNs,flow,/,
    );
    expect(lines[0]).toContain(',queueWaitNs,groupWaitNs,dispatchNs,handlerNs,');
    expect(lines).toHaveLength(requests + 1);
    const jsonl = await fetch(`${server.url}/api/v1/runs/${run.id}/faults?format=jsonl&limit=1`);
    expect(jsonl.headers.get('content-type')).toContain('ndjson');
    const records = (await jsonl.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { seq: number });
    expect(records).toHaveLength(requests);
    expect(records[0]).toEqual(page.records[0]);
  });

  it('two runs with different seeds compare: metrics with deltas and ratios, histograms on shared bins, config diff', async () => {
    const id = await newExperiment('map', configOf('passthrough-map', 600));
    const one = await runToEnd(id, { seed: 1 });
    const two = await runToEnd(id, { seed: 2 });
    const compared = await api('GET', `/compare?runs=${one.id},${two.id}`);
    expect(compared.status).toBe(200);
    const { metrics, histograms, configDiff, runs } = compared.body;
    expect(runs.map((r: { id: string }) => r.id)).toEqual([one.id, two.id]);
    const completed = metrics.find((m: { path: string }) => m.path === '/system/transactions/completed');
    expect(completed).toEqual({
      path: '/system/transactions/completed',
      group: 'system',
      scope: null,
      values: [600, 600],
      deltas: [0, 0],
      ratios: [1, 1],
    });
    const p99 = metrics.find((m: { path: string }) => m.path === '/system/faults/latencyNs/p99');
    expect(p99.deltas[1]).toBe(p99.values[1] - p99.values[0]);
    for (const histogram of Object.values(histograms) as { bins: number[]; counts: number[][] }[]) {
      expect(histogram.counts).toHaveLength(2);
      for (const counts of histogram.counts) expect(counts).toHaveLength(histogram.bins.length);
    }
    const dma = histograms.dmaLatencyNs as { counts: number[][] };
    expect(dma.counts.map((counts) => counts.reduce((a, b) => a + b, 0))).toEqual([600, 600]);
    expect(configDiff).toEqual([{ path: '/seed', values: [1, 2] }]);
    const tooFew = await api('GET', `/compare?runs=${one.id}`);
    expect(tooFew.body).toMatchObject({ statusCode: 400, code: 'EVALIDATION', reason: 'too-few-runs' });
  });

  it('a live lab built by hand is saved as an experiment with its topology, and runs', async () => {
    const lab = (await api('POST', '/labs', { name: 'by hand' })).body.id as string;
    await api('POST', `/labs/${lab}/iommus`, { id: 'vtd0', family: 'vtd', profile: 'seed-5.13' });
    await api('POST', `/labs/${lab}/devices`, {
      id: 'nic0',
      iommu: 'vtd0',
      ats: true,
      pri: { capacity: 16 },
      pasidBits: 20,
      prgResponsePasidRequired: true,
    });
    expect((await api('PUT', `/labs/${lab}/devices/nic0/features/SVA`)).status).toBe(422);
    await api('PUT', `/labs/${lab}/devices/nic0/features/IOPF`);
    await api('PUT', `/labs/${lab}/devices/nic0/features/SVA`);
    await api('POST', `/labs/${lab}/processes`, { id: 'app' });
    await api('POST', `/labs/${lab}/processes/app/mmap`, {
      address: '0x7f0000000000',
      size: '0x400000',
      prot: 'rw',
    });
    await api('POST', `/labs/${lab}/processes/app/mprotect`, {
      address: '0x7f0000000000',
      size: 4096,
      prot: 'r',
    });
    const bound = await api('POST', `/labs/${lab}/devices/nic0/bind`, { process: 'app' });
    expect(bound.body.pasid).toBe(1);

    expect((await api('POST', `/labs/${lab}/experiment`, { name: 'no workload' })).body).toMatchObject({
      code: 'EINVAL',
      reason: 'no-workload',
    });
    const workload = {
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
    };
    const saved = await api('POST', `/labs/${lab}/experiment`, { name: 'by hand', workload, seed: 3 });
    expect(saved.status).toBe(201);
    // The mprotect is held too, as the VMAs it leaves (see lab-saved-from-its-system.test.ts).
    expect(saved.body.omitted).toEqual([]);
    const system = saved.body.config.system;
    expect(system.features).toEqual([
      { device: 'nic0', feature: 'IOPF' },
      { device: 'nic0', feature: 'SVA' },
    ]);
    expect(system.bindings).toEqual([{ device: 'nic0', process: 'app' }]);
    expect(system.processes[0].vmas).toEqual([
      { address: '0x7f0000000000', size: '0x1000', prot: 'r' },
      { address: '0x7f0000001000', size: '0x3ff000', prot: 'rw' },
    ]);
    const run = await runToEnd(saved.body.id);
    expect(run).toMatchObject({ status: 'done', seed: 3, transactions: 50 });
    expect(run.faultRecords).toBe(run.metrics.system.faults.pageRequests);
  });

  it('a workload naming a device the system lacks, or a PASID nothing gives, is refused at save (422 with the path) by every way in, and nothing changes', async () => {
    const good = configOf('sva-pri-vtd');
    const withStream = (patch: object) => ({
      ...good,
      workload: { streams: [{ ...good.workload.streams[0], ...patch }] },
    });
    const noDevice = withStream({ device: 'gpu0' });
    const id = await newExperiment('good', good);
    const before = (await api('GET', '/experiments')).body;

    const created = await api('POST', '/experiments', { name: 'bad', config: noDevice });
    expect(created.body).toMatchObject({
      statusCode: 422,
      code: 'ENOENT',
      reason: 'no-such-device',
      path: '/config/workload/streams/0/device',
    });
    expect(created.body.message).toContain('gpu0');
    const badPasid = await api('POST', '/experiments', { name: 'bad', config: withStream({ pasid: 7 }) });
    expect(badPasid.body).toMatchObject({
      statusCode: 422,
      code: 'EINVAL',
      reason: 'no-such-pasid',
      path: '/config/workload/streams/0/pasid',
    });
    const unbuildable = { ...good, system: { ...good.system, devices: [{ id: 'x', iommu: 'nowhere' }] } };
    const refusedSystem = await api('POST', '/experiments', { name: 'bad', config: unbuildable });
    expect(refusedSystem.body).toMatchObject({
      statusCode: 422,
      code: 'ECONFIG',
      path: '/config/system/devices/0',
    });

    const patched = await api('PATCH', `/experiments/${id}`, { config: noDevice });
    expect(patched.body).toMatchObject({ statusCode: 422, path: '/config/workload/streams/0/device' });

    const file = (await api('GET', `/experiments/${id}/export`)).body;
    const imported = await api('POST', '/experiments/import', {
      ...file,
      experiment: { ...file.experiment, config: noDevice },
    });
    expect(imported.body).toMatchObject({
      statusCode: 422,
      path: '/experiment/config/workload/streams/0/device',
    });

    const lab = (await api('POST', '/labs', { preset: 'sva-pri-vtd' })).body.id as string;
    const fromLab = await api('POST', `/labs/${lab}/experiment`, {
      name: 'bad',
      workload: noDevice.workload,
    });
    expect(fromLab.body).toMatchObject({ statusCode: 422, path: '/workload/streams/0/device' });

    expect((await api('GET', '/experiments')).body).toEqual(before);
  });

  it('an experiment with a run in progress cannot be deleted; once it ends, deleting takes its runs and log', async () => {
    const id = await newExperiment('long', configOf('passthrough-map', 200_000));
    const started = (await api('POST', `/experiments/${id}/runs`, {})).body;
    const busy = await api('DELETE', `/experiments/${id}`);
    expect(busy.body).toMatchObject({ statusCode: 409, code: 'EBUSY', reason: 'runs-in-progress' });
    await follow(started.id);
    expect((await api('GET', `/runs/${started.id}`)).body.status).toBe('done');
    expect((await api('DELETE', `/experiments/${id}?cascade=true`)).status).toBe(204);
    expect((await api('GET', `/runs/${started.id}`)).status).toBe(404);
    expect(server.app.db.faults.count(started.id)).toBe(0);
  });
});
