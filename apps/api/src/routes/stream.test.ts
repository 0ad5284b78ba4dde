import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ServerMessage } from '@iommu-lab/wire';
import { DEFAULT_STREAM_LIMITS } from '../stream/stream-hub';
import { type Running, StreamClient, call, startServer, wsUrl } from '../testing/harness';

const MiB = 1024 * 1024;

/** A proposal-profile guest whose MAP faults go to an outside handler (a VMM reading its fault queue). */
const externalMapConfig = {
  version: 1,
  iommus: [{ id: 'vtd0', family: 'vtd', profile: 'proposal' }],
  devices: [{ id: 'vf0', iommu: 'vtd0', ats: true, pri: { capacity: 16 } }],
  domains: [{ id: 'vm', iommu: 'vtd0', type: 'dma' }],
  features: [{ device: 'vf0', feature: 'IOPF' }],
  handlers: [{ device: 'vf0', handler: { type: 'external', categories: ['MAP'] } }],
  attachments: [{ device: 'vf0', domain: 'vm' }],
};

/** A long sequential workload on pinned passthrough: a steady source of dma.* events. */
const flood = (count: number) => ({
  workload: {
    streams: [
      { device: 'vf0', pattern: 'sequential', base: '0x0', workingSet: 64 * MiB, count, concurrency: 16 },
    ],
  },
  wait: false,
});

describe('lab stream (websocket)', () => {
  let server: Running;
  const open = (lab: string, options = {}) =>
    StreamClient.open(wsUrl(server.url, `/api/v1/labs/${lab}/stream`), options);
  const newLab = async (body: object) => {
    const created = await call(server.url, 'POST', '/api/v1/labs', body);
    expect(created.status).toBe(201);
    return created.body.id as string;
  };

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it('greets with the lab, its time and the filter; an unknown lab is refused before the upgrade', async () => {
    const lab = await newLab({ preset: 'sva-pri-vtd' });
    const client = await open(lab);
    await client.until((messages) => messages.length > 0);
    expect(client.messages[0]).toMatchObject({ type: 'hello', lab, timeNs: 0, filter: {} });
    client.close();
    await expect(open('no-such-lab')).rejects.toThrow('HTTP 404');
  });

  it('DMA done over REST arrives on the stream, batched, with the events a filter selects', async () => {
    const lab = await newLab({ preset: 'sva-pri-vtd' });
    const all = await open(lab);
    const groups = await open(lab);
    groups.send({ type: 'subscribe', filter: { kinds: ['fault.group', 'fault.response'] } });
    groups.send({ type: 'ping' });
    await groups.until((messages) => messages.some((m) => m.type === 'pong'));

    const dma = await call(server.url, 'POST', `/api/v1/labs/${lab}/dma`, {
      device: 'nic0',
      pasid: 1,
      address: '0x7f0000003000',
      length: 64,
      access: 'write',
    });
    expect(dma.body.state).toBe('completed');
    const caused = dma.body.events.length as number;
    await all.until(() => all.events().length >= caused);
    await groups.until(() => groups.events().some((event) => event.kind === 'fault.response'));

    const kinds = new Set(all.events().map((event) => event.kind));
    expect([...kinds]).toEqual(expect.arrayContaining(['pri.page-request', 'fault.group', 'dma.completed']));
    expect(groups.events().every((e) => e.kind === 'fault.group' || e.kind === 'fault.response')).toBe(true);
    // Every events message is a batch with a dropped count.
    expect(all.messages.filter((m) => m.type === 'events').every((m) => 'dropped' in m)).toBe(true);
    all.close();
    groups.close();
  });

  it('a message that is not JSON or not in the protocol gets an EVALIDATION error, and the socket stays usable', async () => {
    const lab = await newLab({ preset: 'sva-pri-vtd' });
    const client = await open(lab);
    client.socket.send('{not json');
    client.send({ type: 'subscribe', filter: { stages: [3] } });
    client.send({ type: 'respond', cookie: 999, code: 'SUCCESS' });
    client.send({ type: 'ping' });
    await client.until((messages) => messages.some((m) => m.type === 'pong'));
    const errors = client.messages.filter(
      (m): m is Extract<ServerMessage, { type: 'error' }> => m.type === 'error',
    );
    expect(errors.map((error) => error.code)).toEqual(['EVALIDATION', 'EVALIDATION', 'EINVAL']);
    expect(errors[2]!.message).toContain('999');
    expect(errors[1]!.message).toContain('stages');
    client.close();
  });

  it('external handler: the pending group arrives with a cookie; the client maps the page and answers SUCCESS, and the DMA completes', async () => {
    const lab = await newLab({ config: externalMapConfig });
    const vmm = await open(lab);
    vmm.send({ type: 'subscribe', filter: { kinds: ['fault.awaiting-client', 'fault.response'] } });
    // One simulated µs per wall ms: the handler's 1 s timeout is far away in wall time.
    await call(server.url, 'POST', `/api/v1/labs/${lab}/clock`, { action: 'run', speed: 1e-3 });

    const dma = call(server.url, 'POST', `/api/v1/labs/${lab}/dma`, {
      device: 'vf0',
      address: '0x42000',
      length: 256,
      access: 'read',
    });
    await vmm.until(() => vmm.events().some((event) => event.kind === 'fault.awaiting-client'));
    const pending = vmm.events().find((event) => event.kind === 'fault.awaiting-client')!;
    expect(pending).toMatchObject({ device: 'vf0', category: 'MAP' });
    const listed = await call(server.url, 'GET', `/api/v1/labs/${lab}/faults/pending`);
    expect(listed.body.map((group: { cookie: number }) => group.cookie)).toEqual([pending.cookie]);

    const mapped = await call(server.url, 'POST', `/api/v1/labs/${lab}/domains/vm/mappings`, {
      iova: '0x42000',
      size: 4096,
      prot: 'rw',
    });
    expect(mapped.status).toBe(201);
    vmm.send({ type: 'respond', cookie: pending.cookie, code: 'SUCCESS' });

    const result = await dma;
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ state: 'completed', error: null, recoveries: 1 });
    await vmm.until((messages) => messages.some((m) => m.type === 'responded'));
    await vmm.until(() => vmm.events().some((e) => e.kind === 'fault.response' && e.code === 'SUCCESS'));
    // Answering twice is refused: exactly one response per group.
    vmm.send({ type: 'respond', cookie: pending.cookie, code: 'INVALID' });
    await vmm.until((messages) => messages.some((m) => m.type === 'error'));
    vmm.close();
  });

  it('the outside handler’s timeout answers for a client that never does', async () => {
    const config = structuredClone(externalMapConfig);
    config.handlers[0]!.handler = {
      type: 'external',
      categories: ['MAP'],
      timeoutNs: 1_000_000,
      timeoutResponse: 'INVALID',
    } as never;
    const lab = await newLab({ config });
    const dma = await call(server.url, 'POST', `/api/v1/labs/${lab}/dma`, {
      device: 'vf0',
      address: '0x42000',
      length: 64,
      access: 'read',
    });
    expect(dma.body.state).toBe('faulted');
    expect(dma.body.events).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'fault.response', code: 'INVALID' })]),
    );
    const pending = await call(server.url, 'GET', `/api/v1/labs/${lab}/faults/pending`);
    expect(pending.body).toEqual([]);
  });

  it('live mode: a running lab streams without further requests; reset tells clients; delete closes them', async () => {
    const lab = await newLab({ preset: 'passthrough-pinned' });
    const client = await open(lab);
    client.send({ type: 'subscribe', filter: { kinds: ['dma.completed'] } });
    await call(server.url, 'POST', `/api/v1/labs/${lab}/workloads`, flood(1_000_000));
    await call(server.url, 'POST', `/api/v1/labs/${lab}/clock`, { action: 'run', speed: 1 });
    await client.until(() => client.events().length >= 100);
    const clock = await call(server.url, 'GET', `/api/v1/labs/${lab}/clock`);
    expect(clock.body.state).toBe('running');
    expect(clock.body.timeNs).toBeGreaterThan(0);

    await call(server.url, 'POST', `/api/v1/labs/${lab}/reset`);
    await client.until((messages) => messages.some((m) => m.type === 'reset'));
    const afterReset = await call(server.url, 'GET', `/api/v1/labs/${lab}/clock`);
    expect(afterReset.body).toMatchObject({ state: 'paused', timeNs: 0 });

    const closed = new Promise<number>((resolve) => client.socket.once('close', resolve));
    await call(server.url, 'DELETE', `/api/v1/labs/${lab}`);
    expect(await closed).toBe(1001);
    expect(client.messages.at(-1)).toMatchObject({ type: 'closing' });
  });

  it('a stalled client loses events, not server memory, and is told how many; another client loses none', async () => {
    // Small per-client limits, so the stalled client overflows its queue well within the test.
    const limits = {
      ...DEFAULT_STREAM_LIMITS,
      // Room for a reading client to ride out a loaded machine's pauses; the stalled one still overflows.
      maxQueuedEvents: 6_000,
      highWaterBytes: 64 * 1024,
      batchEvents: 500,
      flushMs: 10,
    };
    const small = await startServer({ labLimits: { historyEvents: 10_000, stream: limits } });
    try {
      const created = await call(small.url, 'POST', '/api/v1/labs', { preset: 'passthrough-pinned' });
      const lab = created.body.id as string;
      const path = wsUrl(small.url, `/api/v1/labs/${lab}/stream`);
      const stalled = await StreamClient.open(path);
      const healthy = await StreamClient.open(path);
      await stalled.until((messages) => messages.length > 0);
      // Stop reading: the server's writes back up in the socket buffers.
      (stalled.socket as unknown as { _socket: { pause(): void } })._socket.pause();

      await call(small.url, 'POST', `/api/v1/labs/${lab}/workloads`, flood(1_000_000));
      // About 20 k events per wall second: a rate one reading client follows easily.
      await call(small.url, 'POST', `/api/v1/labs/${lab}/clock`, { action: 'run', speed: 2e-4 });
      const serverSide = [...small.app.labs.get(lab).hub.clients];
      let maxQueued = 0;
      let maxBuffered = 0;
      const started = Date.now();
      while (Date.now() - started < 3000) {
        for (const client of serverSide) {
          maxQueued = Math.max(maxQueued, client.queued);
          maxBuffered = Math.max(maxBuffered, client.socket.bufferedAmount);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await call(small.url, 'POST', `/api/v1/labs/${lab}/clock`, { action: 'pause' });

      const stalledServerSide = serverSide.find((client) => client.droppedTotal > 0);
      expect(stalledServerSide, 'the stalled client dropped events').toBeDefined();
      expect(serverSide.filter((client) => client.droppedTotal > 0)).toHaveLength(1);
      expect(maxQueued).toBeLessThanOrEqual(limits.maxQueuedEvents);
      // Nothing is written to a socket past its high-water mark but the batch that crossed it.
      expect(maxBuffered).toBeLessThan(limits.highWaterBytes + limits.batchEvents * 1024);
      // The reading client received a steady stream and lost nothing.
      await healthy.until(() => {
        const other = serverSide.find((client) => client !== stalledServerSide)!;
        return healthy.events().length === other.sent;
      }, 20_000);
      expect(healthy.events().length).toBeGreaterThan(10_000);
      expect(healthy.messages.filter((m) => m.type === 'events').every((m) => m.dropped === 0)).toBe(true);

      // Reading again, the stalled client learns its loss.
      (stalled.socket as unknown as { _socket: { resume(): void } })._socket.resume();
      await stalled.until(
        (messages) => messages.some((m) => (m.type === 'events' && m.dropped > 0) || m.type === 'dropped'),
        20_000,
      );
      const told = stalled.messages.reduce(
        (sum, m) => sum + (m.type === 'events' ? m.dropped : m.type === 'dropped' ? m.count : 0),
        0,
      );
      expect(told).toBeGreaterThan(0);
      expect(told).toBeLessThanOrEqual(stalledServerSide!.droppedTotal);
      stalled.close();
      healthy.close();
    } finally {
      await small.close();
    }
  }, 90_000);

  it('a websocket without the token is refused when the server has one', async () => {
    const guarded = await startServer({ token: 'sekret' });
    try {
      const created = await call(guarded.url, 'POST', '/api/v1/labs', {}, { authorization: 'Bearer sekret' });
      const path = `/api/v1/labs/${created.body.id}/stream`;
      await expect(StreamClient.open(wsUrl(guarded.url, path))).rejects.toThrow('HTTP 401');
      const ok = await StreamClient.open(wsUrl(guarded.url, `${path}?token=sekret`));
      await ok.until((messages) => messages.length > 0);
      expect(ok.messages[0]!.type).toBe('hello');
      ok.close();
      const viaHeader = new WebSocket(wsUrl(guarded.url, path), {
        headers: { authorization: 'Bearer sekret' },
      });
      await new Promise((resolve, reject) => {
        viaHeader.once('open', resolve);
        viaHeader.once('error', reject);
      });
      viaHeader.close();
    } finally {
      await guarded.close();
    }
  });
});
