/**
 * Labs over REST against a real server: presets, create (empty, config, preset), list, get, reset, delete,
 * the live clock (run at a speed or "max", pause, step), the lab limit. Every refusal is checked to change
 * nothing: the labs list, and the lab's whole picture where there is one.
 */
import { PRESETS } from '@iommu-lab/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, call, startServer } from '../testing/harness';

const API = '/api/v1';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let server: Running;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const api = (method: string, path: string, body?: unknown) => call(server.url, method, `${API}${path}`, body);

async function createLab(body: unknown = {}): Promise<string> {
  const created = await api('POST', '/labs', body);
  expect(created.status).toBe(201);
  return created.body.id as string;
}

/** What a lab is, without what names this one instance (id, name, creation time). */
function content(detail: Record<string, unknown>) {
  const { id: _id, name: _name, createdAt: _createdAt, ...rest } = detail;
  return rest;
}

/** The lab's whole picture (topology, clock) and which labs exist: what a refusal must leave alone. */
async function world(lab?: string) {
  const labs = (await api('GET', '/labs')).body.map((summary: { id: string }) => summary.id);
  const detail = lab === undefined ? null : (await api('GET', `/labs/${lab}`)).body;
  return { labs, detail };
}

async function expectRefused(
  lab: string | undefined,
  request: () => Promise<{ status: number; body: Record<string, unknown> }>,
  expected: { status: number; code: string; reason?: string },
) {
  const before = await world(lab);
  const response = await request();
  expect(response.status).toBe(expected.status);
  expect(response.body).toMatchObject({
    statusCode: expected.status,
    code: expected.code,
    message: expect.any(String),
    ...(expected.reason === undefined ? {} : { reason: expected.reason }),
  });
  expect(await world(lab)).toEqual(before);
  return response.body;
}

/** Polls the lab's clock until `done` holds. */
async function clockUntil(lab: string, done: (clock: Record<string, number>) => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const clock = (await api('GET', `/labs/${lab}/clock`)).body;
    if (done(clock)) return clock;
    if (Date.now() > deadline) throw new Error(`clock never got there: ${JSON.stringify(clock)}`);
    await sleep(10);
  }
}

/** A preset lab with a small workload started but not run: events are pending on a paused clock. */
async function labWithPendingWork(preset = 'sva-pri-vtd', count = 20): Promise<string> {
  const lab = await createLab({ preset });
  const workload = structuredClone(PRESETS.find((p) => p.id === preset)!.workload);
  for (const stream of workload.streams) stream.count = count;
  const started = await api('POST', `/labs/${lab}/workloads`, { workload, wait: false });
  expect(started.status).toBe(202);
  return lab;
}

describe('presets', () => {
  it('GET /presets lists every scenario preset with its config and workload', async () => {
    const presets = await api('GET', '/presets');
    expect(presets.status).toBe(200);
    expect(presets.body.map((p: { id: string }) => p.id)).toEqual(PRESETS.map((p) => p.id));
    for (const preset of presets.body) {
      const source = PRESETS.find((p) => p.id === preset.id)!;
      expect(preset).toMatchObject({ title: source.title, description: source.description });
      expect(preset.config).toEqual(source.config);
      expect(preset.workload).toEqual(source.workload);
    }
  });

  it('presets meant to be compared name each other in compareWith', async () => {
    const presets: { id: string; compareWith?: string }[] = (await api('GET', '/presets')).body;
    const paired = presets.filter((p) => p.compareWith !== undefined);
    expect(paired.length).toBeGreaterThan(0);
    for (const preset of paired) {
      const other = presets.find((p) => p.id === preset.compareWith);
      expect(other?.compareWith, preset.id).toBe(preset.id);
    }
  });
});

describe('creating labs', () => {
  it('an empty lab has no topology, a paused clock at time 0, and its options (seed, memory)', async () => {
    const created = await api('POST', '/labs', {
      name: 'scratch',
      options: { seed: 42, memoryFrames: 4096 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'scratch',
      source: { kind: 'empty' },
      clock: { state: 'paused', timeNs: 0, pendingEvents: 0 },
      counts: { iommus: 0, devices: 0, domains: 0, processes: 0 },
    });
    expect(created.body.system).toMatchObject({
      seed: 42,
      memory: { frames: 4096, framesUsed: 0 },
      iommus: [],
      devices: [],
      domains: [],
      processes: [],
    });
    expect(Number.isNaN(Date.parse(created.body.createdAt))).toBe(false);
  });

  it('a lab without a name is named by its id', async () => {
    const created = await api('POST', '/labs', {});
    expect(created.body.name).toBe(created.body.id);
  });

  it('a lab from a config has exactly the config’s topology, and counts that match it', async () => {
    const config = {
      version: 1,
      iommus: [{ id: 'smmu0', family: 'smmuv3', profile: 'proposal' }],
      devices: [{ id: 'acc0', iommu: 'smmu0', kind: 'platform', stall: true }],
      domains: [{ id: 'dma0', iommu: 'smmu0', type: 'dma' }],
      mappings: [{ domain: 'dma0', iova: '0x0', size: 8192, prot: 'rw' }],
      attachments: [{ device: 'acc0', domain: 'dma0' }],
      processes: [{ id: 'p1' }, { id: 'p2' }],
    };
    const created = await api('POST', '/labs', { config });
    expect(created.status).toBe(201);
    expect(created.body.source).toEqual({ kind: 'config' });
    expect(created.body.counts).toEqual({ iommus: 1, devices: 1, domains: 1, processes: 2 });
    const { system } = created.body;
    expect(system.iommus.map((i: { id: string }) => i.id)).toEqual(['smmu0']);
    expect(system.devices[0]).toMatchObject({ id: 'acc0', kind: 'platform', domain: 'dma0' });
    expect(system.domains[0]).toMatchObject({ id: 'dma0', mappedBytes: 8192 });
    expect(system.processes.map((p: { id: string }) => p.id)).toEqual(['p1', 'p2']);
  });

  it('a lab from a preset is the same system as a lab from that preset’s config', async () => {
    for (const preset of PRESETS) {
      const fromPreset = await api('POST', '/labs', { preset: preset.id });
      const fromConfig = await api('POST', '/labs', { config: preset.config });
      expect(fromPreset.status, preset.id).toBe(201);
      expect(fromPreset.body.source).toEqual({ kind: 'preset', preset: preset.id });
      expect(fromPreset.body.system, preset.id).toEqual(fromConfig.body.system);
      expect(fromPreset.body.counts).toEqual(fromConfig.body.counts);
      await api('DELETE', `/labs/${fromPreset.body.id}`);
      await api('DELETE', `/labs/${fromConfig.body.id}`);
    }
  });

  it('an unknown preset is 404 ENOENT (no-such-preset) and registers no lab', async () => {
    await expectRefused(undefined, () => api('POST', '/labs', { preset: 'no-such-preset' }), {
      status: 404,
      code: 'ENOENT',
      reason: 'no-such-preset',
    });
  });

  it('a preset id that is not an id is a 400 EVALIDATION naming body/preset', async () => {
    const body = await expectRefused(undefined, () => api('POST', '/labs', { preset: '../etc' }), {
      status: 400,
      code: 'EVALIDATION',
    });
    expect(body.path).toBe('body/preset');
  });

  it('config, preset and options are alternatives: giving two is 422 EINVAL (ambiguous-source)', async () => {
    await expectRefused(
      undefined,
      () => api('POST', '/labs', { preset: PRESETS[0]!.id, options: { seed: 2 } }),
      { status: 422, code: 'EINVAL', reason: 'ambiguous-source' },
    );
  });

  it('a config that refers to something missing is 422 ECONFIG with its path, and registers no lab', async () => {
    const body = await expectRefused(
      undefined,
      () =>
        api('POST', '/labs', {
          config: {
            version: 1,
            iommus: [{ id: 'vtd0', family: 'vtd', profile: 'mainline' }],
            devices: [{ id: 'nic0', iommu: 'vtd1' }],
          },
        }),
      { status: 422, code: 'ECONFIG' },
    );
    expect(body.path).toBe('/devices/0');
  });

  it('an unknown field in the body is refused (400 EVALIDATION), not ignored', async () => {
    await expectRefused(undefined, () => api('POST', '/labs', { name: 'x', presets: 'sva-pri-vtd' }), {
      status: 400,
      code: 'EVALIDATION',
    });
  });
});

describe('listing, reading and deleting labs', () => {
  it('GET /labs lists each lab’s summary; GET /labs/:lab is what the create answered', async () => {
    const created = await api('POST', '/labs', { preset: 'passthrough-pinned', name: 'listed' });
    const listed = (await api('GET', '/labs')).body as Record<string, unknown>[];
    const { system: _system, ...summary } = created.body;
    expect(listed).toContainEqual(summary);
    const got = await api('GET', `/labs/${created.body.id}`);
    expect(got).toEqual({ status: 200, body: created.body });
  });

  it('DELETE removes the lab: 204, then 404 for it, and it leaves the list', async () => {
    const lab = await createLab();
    const deleted = await call(server.url, 'DELETE', `${API}/labs/${lab}`);
    expect(deleted).toEqual({ status: 204, body: null });
    const gone = await api('GET', `/labs/${lab}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ code: 'ENOENT', reason: 'no-such-lab' });
    expect((await api('GET', '/labs')).body.map((l: { id: string }) => l.id)).not.toContain(lab);
    await expectRefused(undefined, () => api('DELETE', `/labs/${lab}`), {
      status: 404,
      code: 'ENOENT',
      reason: 'no-such-lab',
    });
  });

  it('every lab route answers 404 ENOENT (no-such-lab) for a lab that does not exist', async () => {
    const requests: [string, string, unknown?][] = [
      ['GET', '/labs/nolab'],
      ['POST', '/labs/nolab/reset'],
      ['DELETE', '/labs/nolab'],
      ['GET', '/labs/nolab/clock'],
      ['POST', '/labs/nolab/clock', { action: 'pause' }],
    ];
    for (const [method, path, body] of requests) {
      await expectRefused(undefined, () => api(method, path, body), {
        status: 404,
        code: 'ENOENT',
        reason: 'no-such-lab',
      });
    }
  });

  it('a lab id that is not an id is a 400 EVALIDATION naming params/lab', async () => {
    const body = await expectRefused(undefined, () => api('GET', '/labs/9-not-an-id'), {
      status: 400,
      code: 'EVALIDATION',
    });
    expect(body.path).toBe('params/lab');
  });
});

describe('reset', () => {
  it('rebuilds the lab from its preset: same system as at creation, paused clock at 0, history cleared', async () => {
    const created = await api('POST', '/labs', { preset: 'sva-pri-vtd' });
    const lab = created.body.id;
    await api('POST', `/labs/${lab}/processes`, { id: 'extra' });
    const dma = await api('POST', `/labs/${lab}/dma`, {
      device: 'nic0',
      pasid: 1,
      address: '0x7f0000000000',
      length: 64,
      access: 'write',
    });
    expect(dma.body.state).toBe('completed');
    await api('POST', `/labs/${lab}/clock`, { action: 'run', speed: 0.5 });
    const changed = (await api('GET', `/labs/${lab}`)).body;
    expect(changed.system).not.toEqual(created.body.system);
    expect((await api('GET', `/labs/${lab}/events`)).body.events.length).toBeGreaterThan(0);

    const reset = await api('POST', `/labs/${lab}/reset`);
    expect(reset.status).toBe(200);
    expect(reset.body.system).toEqual(created.body.system);
    expect(reset.body.clock).toMatchObject({ state: 'paused', timeNs: 0, pendingEvents: 0 });
    expect(reset.body.counts).toEqual(created.body.counts);
    expect(reset.body).toMatchObject({ id: lab, createdAt: created.body.createdAt });
    expect((await api('GET', `/labs/${lab}`)).body).toEqual(reset.body);
    expect((await api('GET', `/labs/${lab}/events`)).body).toEqual({ events: [], next: -1, oldest: -1 });
    await api('DELETE', `/labs/${lab}`);
  });

  it('an empty lab resets to empty with the options it was created with', async () => {
    const created = await api('POST', '/labs', { options: { seed: 7, memoryFrames: 1024 } });
    const lab = created.body.id;
    await api('POST', `/labs/${lab}/iommus`, { id: 'vtd0', family: 'vtd', profile: 'mainline' });
    const reset = await api('POST', `/labs/${lab}/reset`);
    expect(content(reset.body)).toEqual(content(created.body));
    expect(reset.body.system).toMatchObject({ seed: 7, memory: { frames: 1024 }, iommus: [] });
    await api('DELETE', `/labs/${lab}`);
  });
});

describe('the live clock', () => {
  it('GET clock is the lab summary’s clock: paused at 0 with the default speed', async () => {
    const created = await api('POST', '/labs', {});
    const clock = await api('GET', `/labs/${created.body.id}/clock`);
    expect(clock).toEqual({ status: 200, body: created.body.clock });
    expect(clock.body).toMatchObject({ state: 'paused', timeNs: 0, pendingEvents: 0 });
    await api('DELETE', `/labs/${created.body.id}`);
  });

  it('a running lab’s time advances with wall time at its speed, never ahead of it, in whole ns', async () => {
    const lab = await createLab();
    const speed = 0.5;
    const wallStart = performance.now();
    const started = await api('POST', `/labs/${lab}/clock`, { action: 'run', speed });
    expect(started.body).toMatchObject({ state: 'running', speed });
    await sleep(200);
    const clock = (await api('GET', `/labs/${lab}/clock`)).body;
    const wallMs = performance.now() - wallStart;
    const advanced = clock.timeNs - started.body.timeNs;
    expect(advanced).toBeLessThanOrEqual(wallMs * 1e6 * speed);
    // Ticks come every 16 ms; allow for a late tick and a busy machine, but time must have moved.
    expect(advanced).toBeGreaterThan(0.3 * 200 * 1e6 * speed);
    expect(Number.isInteger(clock.timeNs)).toBe(true);
    await api('DELETE', `/labs/${lab}`);
  });

  it('pause freezes simulated time; run without a speed keeps the last speed', async () => {
    const lab = await createLab();
    await api('POST', `/labs/${lab}/clock`, { action: 'run', speed: 2 });
    await sleep(40);
    const paused = await api('POST', `/labs/${lab}/clock`, { action: 'pause' });
    expect(paused.body).toMatchObject({ state: 'paused', speed: 2 });
    await sleep(60);
    expect((await api('GET', `/labs/${lab}/clock`)).body).toEqual(paused.body);
    const resumed = await api('POST', `/labs/${lab}/clock`, { action: 'run' });
    expect(resumed.body).toMatchObject({ state: 'running', speed: 2 });
    await api('DELETE', `/labs/${lab}`);
  });

  it('"max" runs pending events back to back until none is left, then time stands still', async () => {
    const lab = await labWithPendingWork('sva-pri-vtd', 200);
    expect((await api('GET', `/labs/${lab}/clock`)).body.pendingEvents).toBeGreaterThan(0);
    const started = await api('POST', `/labs/${lab}/clock`, { action: 'run', speed: 'max' });
    expect(started.body).toMatchObject({ state: 'running', speed: 'max' });
    const idle = await clockUntil(lab, (clock) => clock.pendingEvents === 0);
    expect(idle.timeNs).toBeGreaterThan(0);
    const metrics = (await api('GET', `/labs/${lab}/metrics`)).body;
    const { completed, faulted, aborted } = metrics.system.transactions;
    expect(completed + faulted + aborted).toBe(200);
    await sleep(50);
    expect((await api('GET', `/labs/${lab}/clock`)).body).toEqual(idle);
    await api('DELETE', `/labs/${lab}`);
  });

  it('step N on a paused lab is the same as N single steps (the simulation is deterministic)', async () => {
    const once = await labWithPendingWork();
    const singly = await labWithPendingWork();
    const stepped = await api('POST', `/labs/${once}/clock`, { action: 'step', steps: 40 });
    expect(stepped.status).toBe(200);
    expect(stepped.body.state).toBe('paused');
    for (let i = 0; i < 40; i++) await api('POST', `/labs/${singly}/clock`, { action: 'step' });
    const a = (await api('GET', `/labs/${once}`)).body;
    const b = (await api('GET', `/labs/${singly}`)).body;
    expect(content(a)).toEqual(content(b));
    expect(a.clock).toEqual(stepped.body);
    // And stepping did something: the lab is not where it started.
    const fresh = await labWithPendingWork();
    const untouched = (await api('GET', `/labs/${fresh}`)).body;
    expect(untouched.clock.timeNs).toBe(0);
    expect(a.clock.timeNs).toBeGreaterThan(0);
    expect(a.system).not.toEqual(untouched.system);
    for (const lab of [once, singly, fresh]) await api('DELETE', `/labs/${lab}`);
  });

  it('stepping past the last pending event stops there: nothing pending, time where the last event ran', async () => {
    const lab = await labWithPendingWork('sva-pri-vtd', 2);
    const stepped = await api('POST', `/labs/${lab}/clock`, { action: 'step', steps: 1_000_000 });
    expect(stepped.body.pendingEvents).toBe(0);
    const again = await api('POST', `/labs/${lab}/clock`, { action: 'step', steps: 10 });
    expect(again.body).toEqual(stepped.body);
    const lastEvent = (await api('GET', `/labs/${lab}/events?limit=1000`)).body.events.at(-1);
    expect(stepped.body.timeNs).toBe(lastEvent.timeNs);
    await api('DELETE', `/labs/${lab}`);
  });

  it('stepping a running clock is 409 EBUSY (clock-running) and changes nothing', async () => {
    const lab = await createLab({ preset: 'sva-pri-vtd' });
    // "max" with nothing pending: running, but simulated time stands still, so the picture is stable.
    await api('POST', `/labs/${lab}/clock`, { action: 'run', speed: 'max' });
    await expectRefused(lab, () => api('POST', `/labs/${lab}/clock`, { action: 'step', steps: 3 }), {
      status: 409,
      code: 'EBUSY',
      reason: 'clock-running',
    });
    expect((await api('GET', `/labs/${lab}/clock`)).body.state).toBe('running');
    await api('DELETE', `/labs/${lab}`);
  });

  it('clock bodies outside the schema are 400 EVALIDATION and change nothing', async () => {
    const lab = await labWithPendingWork();
    const bad = [
      { action: 'rewind' },
      { action: 'run', speed: 0 },
      { action: 'run', speed: -1 },
      { action: 'run', speed: 1e7 },
      { action: 'run', speed: 'fast' },
      { action: 'step', steps: 0 },
      { action: 'step', steps: 1.5 },
      { action: 'step', steps: 2_000_000 },
      { action: 'pause', extra: true },
      {},
    ];
    for (const body of bad) {
      await expectRefused(lab, () => api('POST', `/labs/${lab}/clock`, body), {
        status: 400,
        code: 'EVALIDATION',
      });
    }
    await api('DELETE', `/labs/${lab}`);
  });
});

describe('the lab limit', () => {
  it('past maxLabs a create is 409 EBUSY (too-many-labs); deleting one makes room again', async () => {
    const small = await startServer({ maxLabs: 2 });
    try {
      const create = () => call(small.url, 'POST', `${API}/labs`, {});
      expect((await create()).status).toBe(201);
      const second = await create();
      expect(second.status).toBe(201);
      const before = (await call(small.url, 'GET', `${API}/labs`)).body;
      const refused = await create();
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ code: 'EBUSY', reason: 'too-many-labs' });
      expect((await call(small.url, 'GET', `${API}/labs`)).body).toEqual(before);
      await call(small.url, 'DELETE', `${API}/labs/${second.body.id}`);
      expect((await create()).status).toBe(201);
    } finally {
      await small.close();
    }
  });
});
