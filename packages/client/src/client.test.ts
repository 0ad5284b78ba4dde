import { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { type Running, freePort, startServer } from '@iommu-lab/api/src/testing/harness';
import {
  ApiError,
  ConnectionError,
  type IommuLabClient,
  LabStream,
  ProtocolError,
  createClient,
} from './index';
import type { FaultAnswer, LabStreamMessage, ServerMessage, WireEvent } from './index';

/**
 * Reads from an async iterator (with next(), so the iterator stays open) until `done` holds, or fails
 * after `timeoutMs`.
 */
async function collectUntil<T>(
  iterator: AsyncIterator<T> | AsyncIterable<T>,
  done: (items: T[]) => boolean,
  timeoutMs = 10_000,
): Promise<T[]> {
  const source = Symbol.asyncIterator in iterator ? iterator[Symbol.asyncIterator]() : iterator;
  const items: T[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!done(items)) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${items.length} items`)),
        Math.max(0, deadline - Date.now()),
      );
    });
    try {
      const result = await Promise.race([source.next(), timeout]);
      if (result.done) throw new Error(`the iterator ended after ${items.length} items`);
      items.push(result.value);
    } finally {
      clearTimeout(timer);
    }
  }
  return items;
}

/** DMA on passthrough-pinned's vf0, one page a transaction. */
const sequential = (count: number) => ({
  streams: [{ device: 'vf0', pattern: 'sequential' as const, base: '0x0', workingSet: 1 << 24, count }],
});

describe('client: labs and topology', () => {
  let server: Running;
  let client: IommuLabClient;

  beforeAll(async () => {
    server = await startServer();
    client = createClient({ baseUrl: server.url });
  });
  afterAll(() => server.close());

  it('creates, lists, gets, resets and deletes labs; the clock runs, pauses and steps', async () => {
    const health = await client.health();
    expect(health.status).toBeDefined();
    const created = await client.labs.create({ name: 'scratch' });
    expect(created).toMatchObject({ name: 'scratch', source: { kind: 'empty' }, counts: { devices: 0 } });
    const fromPreset = await client.labs.create({ preset: 'sva-pri-vtd' });
    expect(fromPreset.source).toEqual({ kind: 'preset', preset: 'sva-pri-vtd' });

    const listed = await client.labs.list();
    expect(listed.map((lab) => lab.id)).toEqual(expect.arrayContaining([created.id, fromPreset.id]));
    expect((await client.labs.get(created.id)).system).toBeTypeOf('object');

    expect(await client.labs.clock(created.id)).toMatchObject({ state: 'paused', timeNs: 0 });
    expect(await client.labs.clock(created.id, { action: 'run', speed: 1 })).toMatchObject({
      state: 'running',
    });
    const busy = await client.labs.clock(created.id, { action: 'step' }).catch((error: unknown) => error);
    expect(busy).toBeInstanceOf(ApiError);
    expect(busy).toMatchObject({ status: 409, code: 'EBUSY', reason: 'clock-running' });
    expect(await client.labs.clock(created.id, { action: 'pause' })).toMatchObject({ state: 'paused' });

    expect((await client.labs.reset(fromPreset.id)).id).toBe(fromPreset.id);
    await client.labs.delete(created.id);
    const gone = await client.labs.get(created.id).catch((error: unknown) => error);
    expect(gone).toMatchObject({ name: 'ApiError', status: 404, code: 'ENOENT' });
    expect((await client.presets()).map((preset) => preset.id)).toContain('sva-pri-vtd');
  });

  it('workload(): answered at once on a running lab, then followed to its end by workloadProgress()', async () => {
    const lab = await client.labs.create({ preset: 'sva-pri-vtd' });
    const workload = {
      streams: [
        {
          device: 'nic0',
          pasid: 1,
          pattern: 'sequential' as const,
          base: '0x7f0000000000',
          workingSet: '0x100000',
          count: 200,
        },
      ],
    };
    await client.labs.clock(lab.id, { action: 'run', speed: 0.01 });
    const started = await client.workload(lab.id, { workload, wait: false });
    expect(started.finished).toBe(false);
    let now = started;
    for (let tries = 0; !now.finished && tries < 600; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      now = await client.workloadProgress(lab.id, started.id);
    }
    expect(now).toMatchObject({ id: started.id, finished: true });
    expect(now.progress.ended).toBe(now.progress.total);
    await client.labs.delete(lab.id);
  });

  it('builds a system by hand; the ordering refusal is an ApiError with code and reason, and changes nothing', async () => {
    const lab = (await client.labs.create({ name: 'by hand' })).id;
    const iommu = await client.iommus.create(lab, { id: 'vtd0', family: 'vtd', profile: 'seed-5.13' });
    expect(iommu).toMatchObject({ id: 'vtd0' });
    expect((await client.iommus.list(lab)).map((i) => i.id)).toEqual(['vtd0']);
    expect(await client.iommus.get(lab, 'vtd0')).toMatchObject({ id: 'vtd0' });
    await client.devices.create(lab, {
      id: 'nic0',
      iommu: 'vtd0',
      ats: true,
      pri: { capacity: 32 },
      pasidBits: 20,
      prgResponsePasidRequired: true,
    });
    const before = await client.devices.get(lab, 'nic0');

    const refused = await client.devices.enableFeature(lab, 'nic0', 'SVA').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    const error = refused as ApiError;
    expect(error).toMatchObject({ status: 422, code: 'EINVAL', reason: 'iopf-before-sva' });
    expect(error.message).toContain('IOPF');
    expect(error.request).toBe(`PUT /api/v1/labs/${lab}/devices/nic0/features/SVA`);
    expect(error.toJSON()).toMatchObject({ statusCode: 422, code: 'EINVAL', reason: 'iopf-before-sva' });
    expect(await client.devices.get(lab, 'nic0')).toEqual(before);

    await client.devices.enableFeature(lab, 'nic0', 'IOPF');
    const enabled = await client.devices.enableFeature(lab, 'nic0', 'SVA');
    expect(JSON.stringify(enabled)).toContain('SVA');
    await client.processes.create(lab, { id: 'app' });
    await client.processes.mmap(lab, 'app', { address: '0x7f0000000000', size: '0x1000000', prot: 'rw' });
    expect(await client.processes.populate(lab, 'app', { address: '0x7f0000000000', size: 8192 })).toEqual({
      pages: 2,
    });
    expect(await client.devices.bind(lab, 'nic0', 'app')).toMatchObject({ pasid: 1 });
    expect((await client.processes.list(lab)).map((p) => p.id)).toEqual(['app']);

    // Undoing in the wrong order is refused too: SVA goes before IOPF.
    await client.devices.unbind(lab, 'nic0', 'app');
    await expect(client.devices.disableFeature(lab, 'nic0', 'IOPF')).rejects.toMatchObject({ code: 'EBUSY' });
    await client.devices.disableFeature(lab, 'nic0', 'SVA');
    await client.devices.disableFeature(lab, 'nic0', 'IOPF');

    // A body that does not match its schema is EVALIDATION with the path.
    const invalid = await client.devices
      .create(lab, { id: 'x', iommu: 'vtd0', ats: 'yes' } as never)
      .catch((e: unknown) => e);
    expect(invalid).toMatchObject({ status: 400, code: 'EVALIDATION' });
    expect((invalid as ApiError).path).toContain('ats');
  });

  it('domains: map, translate, walk, unmap; DMA over REST reports its outcome and events', async () => {
    const lab = (await client.labs.create({ name: 'vm' })).id;
    await client.iommus.create(lab, { id: 'vtd0', family: 'vtd', profile: 'proposal' });
    await client.devices.create(lab, { id: 'vf0', iommu: 'vtd0', ats: true, pri: { capacity: 32 } });
    await client.devices.enableFeature(lab, 'vf0', 'IOPF');
    await client.domains.create(lab, { id: 'vm', iommu: 'vtd0', type: 'dma' });
    expect(await client.domains.map(lab, 'vm', { iova: '0x0', size: '0x200000', prot: 'rw' })).toMatchObject({
      iova: '0x0',
    });
    await client.devices.attach(lab, 'vf0', { domain: 'vm' });
    expect(await client.domains.translate(lab, 'vm', '0x1234')).toEqual({
      phys: '0x1234',
      prot: 'rw',
      pageSize: '2M',
    });
    expect(await client.domains.walk(lab, 'vm', '0x1000')).toHaveProperty('stage2');

    const dma = await client.dma(lab, { device: 'vf0', address: '0x1000', length: 64, access: 'read' });
    expect(dma).toMatchObject({ state: 'completed', error: null, recoveries: 0 });
    expect(dma.events.map((event) => event.kind)).toContain('dma.completed');

    const unmapped = await client.dma(lab, {
      device: 'vf0',
      address: '0x400000',
      length: 64,
      access: 'read',
    });
    expect(unmapped.state).toBe('faulted');

    const page = await client.history.events(lab, { kinds: ['dma.completed'], limit: 10 });
    expect(page.events.length).toBeGreaterThan(0);
    expect(page.events.every((event) => event.kind === 'dma.completed')).toBe(true);
    const faults = await client.history.faults(lab, { device: 'vf0' });
    expect(faults.events.length).toBeGreaterThan(0);
    const metrics = await client.metrics(lab);
    expect(metrics).toMatchObject({ system: { transactions: { completed: 1, faulted: 1 } } });

    await client.devices.detach(lab, 'vf0');
    await client.domains.unmap(lab, 'vm', { iova: '0x0', size: '0x200000' });
    await expect(client.domains.translate(lab, 'vm', '0x1234')).rejects.toBeInstanceOf(ApiError);
    await client.domains.delete(lab, 'vm');
    await expect(client.domains.get(lab, 'vm')).rejects.toMatchObject({ status: 404 });
  });

  it('stream(): the websocket says hello, then delivers the events a DMA caused, in batches', async () => {
    const lab = (await client.labs.create({ preset: 'sva-pri-vtd' })).id;
    const stream = client.stream(lab);
    await stream.ready;
    const dma = await client.dma(lab, {
      device: 'nic0',
      pasid: 1,
      address: '0x7f0000003000',
      length: 64,
      access: 'write',
    });
    expect(dma.state).toBe('completed');
    const messages = await collectUntil<ServerMessage>(stream, (all) =>
      all.some((m) => m.type === 'events' && m.events.some((e) => e.kind === 'dma.completed')),
    );
    expect(messages[0]).toMatchObject({ type: 'hello', lab });
    const kinds = messages.flatMap((m) => (m.type === 'events' ? m.events.map((e) => e.kind) : []));
    expect(kinds).toEqual(expect.arrayContaining(['pri.page-request', 'fault.group', 'dma.completed']));
    // A ping of our own comes back as a pong.
    stream.ping();
    await collectUntil<ServerMessage>(stream, (all) => all.some((m) => m.type === 'pong'));
    stream.close();
    expect((await stream.closed).code).toBe(1000);
    // Closed before it even opened: the iteration just ends.
    const early = client.stream(lab);
    early.close();
    expect(await early.next()).toEqual({ value: undefined, done: true });
  });

  it('events(): yields the events matching the filter, one by one; ends when the lab is deleted', async () => {
    const lab = (await client.labs.create({ preset: 'sva-pri-vtd' })).id;
    let closing = '';
    const events = client.events(
      lab,
      { kinds: ['fault.group', 'dma.completed'] },
      { onClosing: (reason) => (closing = reason) },
    );
    await events.ready;
    await client.dma(lab, {
      device: 'nic0',
      pasid: 1,
      address: '0x7f0000005000',
      length: 64,
      access: 'read',
    });
    const received = await collectUntil<WireEvent>(events, (all) =>
      all.some((e) => e.kind === 'dma.completed'),
    );
    expect(received.map((e) => e.kind)).toEqual(['fault.group', 'dma.completed']);
    expect(received[0]).toMatchObject({ device: 'nic0', category: 'BIND' });

    await client.labs.delete(lab);
    const rest: WireEvent[] = [];
    for await (const event of events) rest.push(event);
    expect(rest).toEqual([]);
    expect(closing).not.toBe('');
  });

  // The stream asks for the compact tuples encoding and yields what json would (event-tuples.test.ts: the codec).
  const encodingsOf = (lab: string) => [...server.app.labs.get(lab).hub.clients].map((c) => c.encoding);

  it('events() asks for tuples and yields every event of the history', async () => {
    const lab = (await client.labs.create({ preset: 'passthrough-pinned' })).id;
    const events = client.events(lab);
    await events.ready;
    expect(encodingsOf(lab)).toEqual(['tuples']);
    await client.workload(lab, { workload: sequential(200) });
    const history = server.app.labs.get(lab).history;
    const received = await collectUntil<WireEvent>(events, (all) => all.at(-1)?.seq === history.latestSeq);
    const page = await client.history.events(lab, { limit: 1000 });
    expect(page.events.length).toBe(received.length);
    // The history's answer puts seq, timeNs and kind first (its schema); the stream keeps the event's order.
    expect(received).toEqual(page.events);
    events.close();
  });

  it('stream() yields tuples batches as events messages; json when asked for, with the same events', async () => {
    const lab = (await client.labs.create({ preset: 'passthrough-pinned' })).id;
    const compact = client.stream(lab);
    const target = { url: `${server.url.replace('http', 'ws')}/api/v1/labs/${lab}/stream`, headers: {} };
    const plain = new LabStream({ ...target, request: 'GET stream', baseUrl: server.url }, {}, 'json');
    await Promise.all([compact.ready, plain.ready]);
    expect(encodingsOf(lab).sort()).toEqual(['json', 'tuples']);
    await client.workload(lab, { workload: sequential(50) });
    const latest = server.app.labs.get(lab).history.latestSeq;
    const eventsOf = async (stream: LabStream) =>
      (
        await collectUntil<LabStreamMessage>(stream, (all) =>
          all.some((m) => m.type === 'events' && m.events.at(-1)?.seq === latest),
        )
      ).flatMap((m) => (m.type === 'events' ? m.events : []));
    const [fromTuples, fromJson] = await Promise.all([eventsOf(compact), eventsOf(plain)]);
    expect(fromTuples.length).toBeGreaterThanOrEqual(100);
    expect(fromTuples.map((event) => JSON.stringify(event))).toEqual(
      fromJson.map((event) => JSON.stringify(event)),
    );
    compact.close();
    plain.close();
  });

  it('a batch the format does not allow ends the stream with a ProtocolError (EPROTO)', async () => {
    const broken = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => broken.once('listening', () => resolve()));
    broken.on('connection', (socket) => {
      socket.on('message', (raw) => {
        // Answers the stream's sync ping, then sends a row of a layout the batch does not have.
        if (JSON.parse(String(raw)).type !== 'ping') return;
        socket.send(JSON.stringify({ type: 'pong' }));
        socket.send(JSON.stringify({ type: 'event-tuples', layouts: [], events: [[0, 1]], dropped: 0 }));
      });
    });
    const url = `ws://127.0.0.1:${(broken.address() as AddressInfo).port}`;
    const stream = new LabStream({ url, headers: {}, request: 'GET stream', baseUrl: url });
    await stream.ready;
    const failure = stream.next().then(
      () => null,
      (error: unknown) => error,
    );
    expect(await failure).toBeInstanceOf(ProtocolError);
    expect(await failure).toMatchObject({ code: 'EPROTO', message: expect.stringMatching(/event 0/) });
    await stream.closed;
    broken.close();
  });

  it('faultHandler(): answers a pending MAP group after mapping the page, and the DMA completes', async () => {
    const lab = (await client.labs.create({ name: 'vmm' })).id;
    await client.iommus.create(lab, { id: 'vtd0', family: 'vtd', profile: 'proposal' });
    await client.devices.create(lab, { id: 'vf0', iommu: 'vtd0', ats: true, pri: { capacity: 16 } });
    await client.devices.enableFeature(lab, 'vf0', 'IOPF');
    await client.domains.create(lab, { id: 'vm', iommu: 'vtd0', type: 'dma' });
    await client.devices.attach(lab, 'vf0', { domain: 'vm' });
    await client.devices.registerHandler(lab, 'vf0', { type: 'external', categories: ['MAP'] });

    const seen: WireEvent[] = [];
    const handler = client.faultHandler(
      lab,
      async (event) => {
        seen.push(event);
        const faults = event.faults as { address: string }[];
        for (const fault of faults)
          await client.domains.map(lab, 'vm', { iova: fault.address, size: 4096, prot: 'rw' });
        return 'SUCCESS' as const;
      },
      { categories: ['MAP'] },
    );
    await handler.ready;
    // One simulated µs per wall ms: the handler's 1 s timeout is far away in wall time.
    await client.labs.clock(lab, { action: 'run', speed: 0.001 });

    const dma = await client.dma(lab, { device: 'vf0', address: '0x42000', length: 256, access: 'read' });
    expect(dma).toMatchObject({ state: 'completed', error: null, recoveries: 1 });
    expect(dma.events).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'fault.response', code: 'SUCCESS' })]),
    );
    const answers = await collectUntil<FaultAnswer>(handler, (all) => all.length >= 1);
    expect(answers[0]).toMatchObject({
      ok: true,
      code: 'SUCCESS',
      event: { device: 'vf0', category: 'MAP' },
    });
    expect(answers[0]!.cookie).toBe(seen[0]!.cookie);
    expect(await client.faults.pending(lab)).toEqual([]);
    expect(await client.domains.translate(lab, 'vm', '0x42000')).toMatchObject({ phys: expect.any(String) });

    handler.close();
    await handler.done;
    await client.labs.clock(lab, { action: 'pause' });
  });

  it('the REST fault handler: pending groups and answers by cookie; a bad cookie is refused', async () => {
    const lab = (await client.labs.create({ name: 'rest vmm' })).id;
    await client.iommus.create(lab, { id: 'vtd0', family: 'vtd', profile: 'proposal' });
    await client.devices.create(lab, { id: 'vf0', iommu: 'vtd0', ats: true, pri: { capacity: 16 } });
    await client.devices.enableFeature(lab, 'vf0', 'IOPF');
    await client.domains.create(lab, { id: 'vm', iommu: 'vtd0', type: 'dma' });
    await client.devices.attach(lab, 'vf0', { domain: 'vm' });
    await client.devices.registerHandler(lab, 'vf0', { type: 'external', categories: ['MAP'] });
    await client.labs.clock(lab, { action: 'run', speed: 0.001 });
    const dma = client.dma(lab, { device: 'vf0', address: '0x43000', length: 64, access: 'read' });
    let pending = await client.faults.pending(lab);
    for (let i = 0; pending.length === 0 && i < 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      pending = await client.faults.pending(lab);
    }
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ device: 'vf0', category: 'MAP' });
    await expect(client.faults.respond(lab, pending[0]!.cookie, 'INVALID')).resolves.toMatchObject({
      code: 'INVALID',
    });
    expect((await dma).state).toBe('faulted');
    await expect(client.faults.respond(lab, pending[0]!.cookie, 'SUCCESS')).rejects.toMatchObject({
      code: 'EINVAL',
    });
    await client.labs.clock(lab, { action: 'pause' });
  });

  it('a websocket to an unknown lab is an ApiError 404; an unreachable server is a ConnectionError', async () => {
    const stream = client.stream('no-such-lab');
    await expect(stream.ready).rejects.toMatchObject({ name: 'ApiError', status: 404, code: 'ENOENT' });
    await expect(stream.next()).rejects.toBeInstanceOf(ApiError);

    // A filter the server refuses: ready rejects, and the event iterator throws.
    const lab = (await client.labs.create({ preset: 'sva-pri-vtd' })).id;
    const refused = client.events(lab, { stages: [3 as 1] });
    await expect(refused.ready).rejects.toMatchObject({ name: 'ApiError', code: 'EVALIDATION' });
    await expect(refused.next()).rejects.toMatchObject({ code: 'EVALIDATION' });
    refused.close();

    const nowhere = createClient({ baseUrl: `http://127.0.0.1:${await freePort()}` });
    const unreachable = await nowhere.labs.list().catch((error: unknown) => error);
    expect(unreachable).toBeInstanceOf(ConnectionError);
    expect(unreachable).toMatchObject({ code: 'ECONNREFUSED' });
    const socket = nowhere.stream('lab1');
    await expect(socket.ready).rejects.toBeInstanceOf(ConnectionError);
  });

  it('sends the token: a guarded server refuses without it (EAUTH) and accepts it on REST and websockets', async () => {
    const guarded = await startServer({ token: 'sekret' });
    try {
      await expect(createClient({ baseUrl: guarded.url }).labs.list()).rejects.toMatchObject({
        status: 401,
        code: 'EAUTH',
      });
      const authorized = createClient({ baseUrl: `${guarded.url}/api/v1/`, token: 'sekret' });
      const lab = await authorized.labs.create({ preset: 'sva-pri-vtd' });
      const stream = authorized.stream(lab.id);
      await stream.ready;
      const [hello] = await collectUntil<ServerMessage>(stream, (all) => all.length > 0);
      expect(hello).toMatchObject({ type: 'hello', lab: lab.id });
      stream.close();
      await expect(createClient({ baseUrl: guarded.url }).stream(lab.id).ready).rejects.toMatchObject({
        status: 401,
      });
    } finally {
      await guarded.close();
    }
  });
});
