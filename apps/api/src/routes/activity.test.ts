/**
 * What happens in a lab, over REST against a real server: single DMA transactions (with the events they
 * caused and the data they moved), workloads, page requests answered from outside (pending list and
 * responses), the event and fault history with paging and filters, and metrics.
 */
import { PRESETS } from '@iommu-lab/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STREAM_LIMITS } from '../stream/stream-hub';
import { type Running, call, startServer } from '../testing/harness';
import { API, type Body, type Lab, expectRefused, expectStatus, labClient } from '../testing/lab-client';

const PAGE = 4096;
/** The SVA process's VMA in the SVA presets (64 MiB, rw), bound at PASID 1. */
const USER_BASE = 0x7f0000000000n;
const hex = (value: bigint) => `0x${value.toString(16)}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let server: Running;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

async function createLab(body: unknown, base = server.url): Promise<Lab> {
  return labClient(base, expectStatus(await call(base, 'POST', `${API}/labs`, body), 201).id);
}

/** A preset's workload with `count` transactions per stream. */
function smallWorkload(preset: string, count: number) {
  const workload = structuredClone(PRESETS.find((p) => p.id === preset)!.workload);
  for (const stream of workload.streams) stream.count = count;
  return workload;
}

async function until<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last ${JSON.stringify(value)}`);
    await sleep(5);
  }
}

describe('one DMA transaction', () => {
  it('SVA over PRI: a first touch is a page request the kernel’s SVA handler resolves; the DMA completes after that recovery', async () => {
    const lab = await createLab({ preset: 'sva-pri-vtd' });
    const address = hex(USER_BASE + 0x5000n);
    const result = expectStatus(
      await lab.post('/dma', { device: 'nic0', pasid: 1, address, length: 256, access: 'read' }),
      200,
    );
    expect(result).toMatchObject({
      state: 'completed',
      error: null,
      recoveries: 1,
      bytesDone: 256,
      fault: null,
    });
    const kinds = result.events.map((e: Body) => e.kind);
    const order = ['pri.page-request', 'fault.group', 'fault.response', 'pri.response', 'dma.completed'];
    expect(kinds.filter((kind: string) => order.includes(kind))).toEqual(order);
    for (const event of result.events)
      expect(event.device === 'nic0' || event.transaction === result.transaction, JSON.stringify(event)).toBe(
        true,
      );
    const byKind = (kind: string) => result.events.find((e: Body) => e.kind === kind);
    expect(byKind('pri.page-request')).toMatchObject({ device: 'nic0', pasid: 1, address, perm: 'r' });
    expect(byKind('fault.group')).toMatchObject({ device: 'nic0', handler: 'sva', category: 'BIND' });
    expect(byKind('fault.response')).toMatchObject({ device: 'nic0', code: 'SUCCESS' });
    expect(byKind('dma.completed')).toMatchObject({
      transaction: result.transaction,
      latencyNs: result.latencyNs,
    });
    const seqs = result.events.map((e: Body) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    // The page is resident now and its translation cached: no page request the second time.
    const again = expectStatus(
      await lab.post('/dma', { device: 'nic0', pasid: 1, address, length: 256, access: 'read' }),
      200,
    );
    expect(again).toMatchObject({ state: 'completed', recoveries: 0 });
    expect(again.events.some((e: Body) => e.kind.startsWith('pri.'))).toBe(false);
    expect(again.transaction).toBeGreaterThan(result.transaction);
  });

  it('a DMA’s events are the lab history’s events (same seq, same content)', async () => {
    const lab = await createLab({ preset: 'sva-pri-vtd' });
    const result = expectStatus(
      await lab.post('/dma', {
        device: 'nic0',
        pasid: 1,
        address: hex(USER_BASE),
        length: 8,
        access: 'write',
      }),
      200,
    );
    const history = (await lab.get('/events?limit=1000')).body.events;
    for (const event of result.events) expect(history.find((e: Body) => e.seq === event.seq)).toEqual(event);
  });

  it('bytes written by DMA are read back by DMA (base64 both ways), across a page boundary', async () => {
    const lab = await createLab({ preset: 'sva-pri-vtd' });
    const bytes = Buffer.from(Array.from({ length: 200 }, (_, i) => (i * 37 + 11) % 256));
    const address = hex(USER_BASE + 0x10000n - 100n);
    const written = expectStatus(
      await lab.post('/dma', {
        device: 'nic0',
        pasid: 1,
        address,
        length: bytes.length,
        access: 'write',
        data: bytes.toString('base64'),
      }),
      200,
    );
    expect(written).toMatchObject({ state: 'completed', bytesDone: bytes.length });
    expect(written.data).toBeUndefined();
    const read = expectStatus(
      await lab.post('/dma', {
        device: 'nic0',
        pasid: 1,
        address,
        length: bytes.length,
        access: 'read',
        returnData: true,
      }),
      200,
    );
    expect(read.state).toBe('completed');
    expect(Buffer.from(read.data, 'base64')).toEqual(bytes);
    const withoutData = expectStatus(
      await lab.post('/dma', { device: 'nic0', pasid: 1, address, length: 8, access: 'read' }),
      200,
    );
    expect(withoutData.data).toBeUndefined();
  });

  it('DMA to an address not mapped in a DMA domain (no IOPF) ends faulted, with the unrecoverable fault', async () => {
    const lab = await createLab({ preset: 'passthrough-pinned' });
    const address = '0x10000000'; // guest RAM is the first 64 MiB
    const result = expectStatus(
      await lab.post('/dma', { device: 'vf0', address, length: 64, access: 'read' }),
      200,
    );
    expect(result.state).toBe('faulted');
    expect(result.error).toEqual(expect.any(String));
    expect(result.bytesDone).toBe(0);
    expect(result.fault).toMatchObject({
      device: 'vf0',
      address,
      domain: 'vm',
      transaction: result.transaction,
    });
    expect(result.events.map((e: Body) => e.kind)).toEqual(
      expect.arrayContaining(['fault.unrecoverable', 'dma.faulted']),
    );
    const metrics = (await lab.get('/metrics')).body;
    expect(metrics.system.transactions).toMatchObject({ completed: 0, faulted: 1 });
  });

  it('refusals change nothing (not even the clock): no device (404), data of the wrong length or on a read (422), past 2^64 (422), bad bodies (400)', async () => {
    const lab = await createLab({ preset: 'sva-pri-vtd' });
    const base = { device: 'nic0', pasid: 1, address: hex(USER_BASE), length: 8, access: 'write' };
    const eight = Buffer.alloc(8, 1).toString('base64');
    const cases: [Body, { status: number; code: string; reason?: string }][] = [
      [
        { ...base, device: 'nic9' },
        { status: 404, code: 'ENOENT' },
      ],
      [
        { ...base, data: Buffer.alloc(7).toString('base64') },
        { status: 422, code: 'EINVAL', reason: 'bad-data' },
      ],
      [
        { ...base, access: 'read', data: eight },
        { status: 422, code: 'EINVAL', reason: 'bad-data' },
      ],
      [
        { ...base, address: '0xfffffffffffffff0', length: 64 },
        { status: 422, code: 'ERANGE', reason: 'out-of-range' },
      ],
      [
        { ...base, length: 0 },
        { status: 400, code: 'EVALIDATION' },
      ],
      [
        { ...base, length: 2 ** 21 },
        { status: 400, code: 'EVALIDATION' },
      ],
      [
        { ...base, access: 'fetch' },
        { status: 400, code: 'EVALIDATION' },
      ],
      [
        { ...base, data: 'not base64!' },
        { status: 400, code: 'EVALIDATION' },
      ],
      [
        { ...base, address: 4096 },
        { status: 400, code: 'EVALIDATION' },
      ],
      [
        { ...base, lenght: 8 },
        { status: 400, code: 'EVALIDATION' },
      ],
    ];
    for (const [body, expected] of cases) await expectRefused(lab, () => lab.post('/dma', body), expected);
    const noLab = await call(server.url, 'POST', `${API}/labs/nolab/dma`, base);
    expect(noLab.status).toBe(404);
    expect(noLab.body).toMatchObject({ code: 'ENOENT', reason: 'no-such-lab' });
  });
});

describe('workloads', () => {
  it('on a paused lab, waiting: runs to the end and reports counts that agree with the events and metrics', async () => {
    const lab = await createLab({ preset: 'sva-pri-vtd' });
    const workload = smallWorkload('sva-pri-vtd', 60);
    const result = expectStatus(await lab.post('/workloads', { workload }), 200);
    expect(result.finished).toBe(true);
    const { progress } = result;
    expect(progress.total).toBe(60);
    expect(progress).toMatchObject({ submitted: 60, ended: 60 });
    expect(progress.completed + progress.failed).toBe(progress.ended);
    expect(result.eventsByKind['dma.completed'] ?? 0).toBe(progress.completed);
    expect(result.eventsByKind['dma.faulted'] ?? 0).toBe(progress.failed);
    expect(result.eventsByKind['pri.page-request']).toBeGreaterThan(0); // first touches fault
    expect(result.metrics.system.transactions.completed).toBe(progress.completed);
    const clock = (await lab.get('/clock')).body;
    expect(clock).toMatchObject({ state: 'paused', timeNs: result.timeNs });
  });

  it('wait false answers 202 at once; nothing runs until the clock does, then all of it', async () => {
    const lab = await createLab({ preset: 'passthrough-pinned' });
    const workload = smallWorkload('passthrough-pinned', 40);
    const started = expectStatus(await lab.post('/workloads', { workload, wait: false }), 202);
    expect(started).toMatchObject({ finished: false, progress: { submitted: 0, ended: 0, total: 40 } });
    expect(started.eventsByKind).toEqual({});
    expect((await lab.get('/clock')).body.pendingEvents).toBeGreaterThan(0);
    expectStatus(await lab.post('/clock', { action: 'run', speed: 'max' }), 200);
    const metrics = await until(
      async () => (await lab.get('/metrics')).body,
      (m) => m.system.transactions.completed + m.system.transactions.faulted === 40,
    );
    expect(metrics.system.transactions.completed).toBe(40); // guest RAM is pinned: no faults
    await lab.post('/clock', { action: 'pause' });
  });

  it('on a running lab, waiting: the request follows the live clock and answers 200 when the workload ends', async () => {
    const lab = await createLab({ preset: 'passthrough-pinned' });
    expectStatus(await lab.post('/clock', { action: 'run', speed: 1e-3 }), 200);
    const workload = smallWorkload('passthrough-pinned', 40);
    const result = expectStatus(await lab.post('/workloads', { workload }), 200);
    expect(result).toMatchObject({ finished: true, progress: { ended: 40, completed: 40, total: 40 } });
    expect(result.eventsByKind['dma.completed']).toBe(40);
    expect(expectStatus(await lab.get(`/workloads/${result.id}`), 200)).toMatchObject({
      id: result.id,
      finished: true,
      progress: result.progress,
    });
    await lab.post('/clock', { action: 'pause' });
  });

  it('on a running lab, past waitMs: 202 with the progress so far, then GET /workloads/:id follows it to the end; a reset forgets it', async () => {
    const lab = await createLab({ preset: 'passthrough-pinned' });
    // One simulated ns per wall-clock ms: nothing of the workload ends within the wait.
    expectStatus(await lab.post('/clock', { action: 'run', speed: 1e-6 }), 200);
    const workload = smallWorkload('passthrough-pinned', 40);
    const started = expectStatus(await lab.post('/workloads', { workload, waitMs: 50 }), 202);
    expect(started).toMatchObject({ finished: false, progress: { total: 40 } });
    expect(started.progress.ended).toBeLessThan(40);
    expectStatus(await lab.post('/clock', { action: 'run', speed: 'max' }), 200);
    const ended = await until(
      async () => expectStatus(await lab.get(`/workloads/${started.id}`), 200),
      (view) => view.finished,
    );
    expect(ended.progress).toMatchObject({ ended: 40, completed: 40, total: 40 });
    await lab.post('/clock', { action: 'pause' });
    expect((await lab.get('/workloads/wl999')).body).toMatchObject({
      statusCode: 404,
      code: 'ENOENT',
      reason: 'no-such-workload',
    });
    expectStatus(await lab.post('/reset'), 200);
    expect((await lab.get(`/workloads/${started.id}`)).status).toBe(404);
  });

  it('refusals change nothing: an unknown device (404), a working set that is no size (422), a bad spec (400)', async () => {
    const lab = await createLab({ preset: 'sva-pri-vtd' });
    const stream = smallWorkload('sva-pri-vtd', 5).streams[0]!;
    const cases: [Body, { status: number; code: string; reason?: string }][] = [
      [{ workload: { streams: [{ ...stream, device: 'nic9' }] } }, { status: 404, code: 'ENOENT' }],
      [
        { workload: { streams: [{ ...stream, workingSet: '0xffffffffffffffff' }] } },
        { status: 422, code: 'EINVAL', reason: 'bad-size' },
      ],
      [{ workload: { streams: [{ ...stream, count: 0 }] } }, { status: 400, code: 'EVALIDATION' }],
      [{ workload: { streams: [] } }, { status: 400, code: 'EVALIDATION' }],
      [
        { workload: { streams: [stream] }, wait: 'yes' },
        { status: 400, code: 'EVALIDATION' },
      ],
    ];
    for (const [body, expected] of cases)
      await expectRefused(lab, () => lab.post('/workloads', body), expected);
  });
});

describe('page requests answered from outside (external handler, iommufd-style cookies, reference §4)', () => {
  /**
   * VT-d under the proposal, a PRI device with IOPF on, attached to DMA domain `d` with nothing mapped (v5.13's
   * VT-d driver answered a page request without PASID INVALID itself; the proposal's reports it).
   */
  const config = {
    version: 1,
    iommus: [{ id: 'vtd0', family: 'vtd', profile: 'proposal' }],
    devices: [{ id: 'nic0', iommu: 'vtd0', ats: true, pri: { capacity: 16 } }],
    domains: [{ id: 'd', iommu: 'vtd0', type: 'dma' }],
    features: [{ device: 'nic0', feature: 'IOPF' }],
    attachments: [{ device: 'nic0', domain: 'd' }],
  };

  async function labWithExternalHandler(): Promise<Lab> {
    const lab = await createLab({ config });
    const handler = expectStatus(
      await lab.post('/devices/nic0/handlers', { type: 'external', timeoutNs: 1e12 }),
      201,
    );
    expect(handler.type).toBe('external');
    return lab;
  }

  it('on a running lab the DMA waits while its group is pending; answered SUCCESS over REST (after mapping), it completes', async () => {
    const lab = await labWithExternalHandler();
    expectStatus(await lab.post('/clock', { action: 'run', speed: 1e-3 }), 200);
    const dma = lab.post('/dma', { device: 'nic0', address: '0x3000', length: 64, access: 'read' });
    const pending = await until(
      async () => expectStatus(await lab.get('/faults/pending'), 200),
      (list) => list.length > 0,
    );
    expect(pending).toEqual([
      expect.objectContaining({ device: 'nic0', pasid: null, faults: [{ address: '0x3000', perm: 'r' }] }),
    ]);
    const { cookie } = pending[0];
    expect(cookie).toBeGreaterThanOrEqual(1);
    expectStatus(await lab.post('/domains/d/mappings', { iova: '0x3000', size: PAGE, prot: 'rw' }), 201);
    expect(expectStatus(await lab.post(`/faults/${cookie}/response`, { code: 'SUCCESS' }), 200)).toEqual({
      cookie,
      code: 'SUCCESS',
    });
    const result = expectStatus(await dma, 200);
    expect(result).toMatchObject({ state: 'completed', recoveries: 1, bytesDone: 64 });
    const awaiting = result.events.find((e: Body) => e.kind === 'fault.awaiting-client');
    expect(awaiting).toMatchObject({ cookie, device: 'nic0' });
    expect(result.events.find((e: Body) => e.kind === 'fault.response')).toMatchObject({ code: 'SUCCESS' });
    expect((await lab.get('/faults/pending')).body).toEqual([]);

    // Pause, so the picture holds still, then: a cookie is answered once.
    await lab.post('/clock', { action: 'pause' });
    await expectRefused(lab, () => lab.post(`/faults/${cookie}/response`, { code: 'SUCCESS' }), {
      status: 422,
      code: 'EINVAL',
      reason: 'unknown-cookie',
    });
  });

  it('on a paused lab stepped by hand: the group waits with its cookie; answered INVALID, the transaction fails', async () => {
    const lab = await labWithExternalHandler();
    const workload = {
      streams: [{ device: 'nic0', pattern: 'sequential', base: '0x8000', workingSet: PAGE, count: 1 }],
    };
    expectStatus(await lab.post('/workloads', { workload, wait: false }), 202);
    const pending = await until(
      async () => {
        await lab.post('/clock', { action: 'step' });
        return (await lab.get('/faults/pending')).body;
      },
      (list) => list.length > 0,
    );
    expect(pending[0].faults).toEqual([{ address: '0x8000', perm: 'r' }]);
    const events = (await lab.get('/events?kinds=fault.awaiting-client')).body.events;
    expect(events.map((e: Body) => e.cookie)).toEqual([pending[0].cookie]);

    expectStatus(await lab.post(`/faults/${pending[0].cookie}/response`, { code: 'INVALID' }), 200);
    expectStatus(await lab.post('/clock', { action: 'step', steps: 10_000 }), 200);
    const metrics = (await lab.get('/metrics')).body;
    expect(metrics.system.transactions).toMatchObject({ completed: 0, faulted: 1 });
    const responses = (await lab.get('/faults?kinds=fault.response')).body.events;
    expect(responses).toEqual([expect.objectContaining({ code: 'INVALID', device: 'nic0' })]);
  });

  it('responses outside the uAPI are refused and change nothing: unknown cookie (422), cookie 0 or a made-up code (400)', async () => {
    const lab = await labWithExternalHandler();
    await expectRefused(lab, () => lab.post('/faults/7/response', { code: 'SUCCESS' }), {
      status: 422,
      code: 'EINVAL',
      reason: 'unknown-cookie',
    });
    await expectRefused(lab, () => lab.post('/faults/0/response', { code: 'SUCCESS' }), {
      status: 400,
      code: 'EVALIDATION',
    });
    await expectRefused(lab, () => lab.post('/faults/1/response', { code: 'MAYBE' }), {
      status: 400,
      code: 'EVALIDATION',
    });
    await expectRefused(lab, () => lab.post('/faults/4294967296/response', { code: 'SUCCESS' }), {
      status: 400,
      code: 'EVALIDATION',
    });
  });
});

describe('event and fault history', () => {
  /** A lab with a history of every sort: SVA page requests, completions, and an SVA fault answered INVALID. */
  async function labWithHistory(): Promise<{ lab: Lab; all: Body[] }> {
    const lab = await createLab({ preset: 'sva-pri-vtd' });
    expectStatus(await lab.post('/workloads', { workload: smallWorkload('sva-pri-vtd', 12) }), 200);
    // Outside the process's VMA: the SVA handler answers INVALID and the DMA faults.
    const outside = await lab.post('/dma', {
      device: 'nic0',
      pasid: 1,
      address: '0x1000',
      length: 8,
      access: 'read',
    });
    expect(expectStatus(outside, 200).state).toBe('faulted');
    const page = expectStatus(await lab.get('/events?limit=1000'), 200);
    expect(page.events.length).toBeLessThan(1000);
    return { lab, all: page.events };
  }

  it('events have consecutive sequence numbers; pages of `limit` after `next` partition the history', async () => {
    const { lab, all } = await labWithHistory();
    const seqs = all.map((e: Body) => e.seq);
    expect(seqs).toEqual(seqs.map((_: number, i: number) => seqs[0] + i));
    expect((await lab.get('/events')).body.oldest).toBe(seqs[0]);
    const pages: Body[][] = [];
    let after = -1;
    for (;;) {
      const page = expectStatus(await lab.get(`/events?after=${after}&limit=7`), 200);
      if (page.events.length === 0) {
        expect(page.next).toBe(-1);
        break;
      }
      expect(page.events.length).toBeLessThanOrEqual(7);
      expect(page.next).toBe(page.events.at(-1).seq);
      pages.push(page.events);
      after = page.next;
    }
    expect(pages.length).toBe(Math.ceil(all.length / 7));
    expect(pages.flat()).toEqual(all);
    const middle = all[Math.floor(all.length / 2)];
    expect((await lab.get(`/events?after=${middle.seq}&limit=1000`)).body.events).toEqual(
      all.filter((e: Body) => e.seq > middle.seq),
    );
  });

  it('each filter returns exactly the history’s events that match it (an event without the field does not)', async () => {
    const { lab, all } = await labWithHistory();
    const filters: [string, (e: Body) => boolean][] = [
      [
        'kinds=pri.page-request,fault.response',
        (e) => ['pri.page-request', 'fault.response'].includes(e.kind),
      ],
      ['kinds= dma.completed , ', (e) => e.kind === 'dma.completed'],
      ['device=nic0', (e) => e.device === 'nic0'],
      ['pasid=1', (e) => e.pasid === 1],
      ['category=BIND', (e) => e.category === 'BIND'],
      ['stage=1', (e) => e.stage === 1],
      ['device=nic0&kinds=dma.faulted', (e) => e.device === 'nic0' && e.kind === 'dma.faulted'],
    ];
    for (const [query, predicate] of filters) {
      const expected = all.filter(predicate);
      expect(expected.length, query).toBeGreaterThan(0);
      expect(expected.length, query).toBeLessThan(all.length);
      const page = expectStatus(await lab.get(`/events?${encodeURI(query)}&limit=1000`), 200);
      expect(page.events, query).toEqual(expected);
    }
  });

  it('the fault history is the history’s fault-path events (fault.*, pri.*, stall.*, queue overflows, faulted DMA)', async () => {
    const { lab, all } = await labWithHistory();
    const isFault = (e: Body) =>
      /^(fault|pri|stall)\./.test(e.kind) || e.kind === 'iommu.queue-overflow' || e.kind === 'dma.faulted';
    const expected = all.filter(isFault);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(all.length);
    expect(expectStatus(await lab.get('/faults?limit=1000'), 200).events).toEqual(expected);
    // An empty kinds list is no list: still the fault history, not every event.
    expect(expectStatus(await lab.get('/faults?limit=1000&kinds='), 200).events).toEqual(expected);
    const responses = expectStatus(await lab.get('/faults?limit=1000&kinds=fault.response'), 200).events;
    expect(responses).toEqual(all.filter((e: Body) => e.kind === 'fault.response'));
    expect(responses.some((e: Body) => e.code === 'INVALID')).toBe(true);
    const paged = expectStatus(await lab.get('/faults?limit=3'), 200);
    expect(paged.events).toEqual(expected.slice(0, 3));
    expect(expectStatus(await lab.get(`/faults?after=${paged.next}&limit=3`), 200).events).toEqual(
      expected.slice(3, 6),
    );
  });

  it('bad history queries are 400 EVALIDATION and change nothing: an unknown kind, limit, after, stage, category, fields', async () => {
    const { lab } = await labWithHistory();
    const unknown = await expectRefused(lab, () => lab.get('/events?kinds=dma.completed,dma.teleported'), {
      status: 400,
      code: 'EVALIDATION',
      reason: 'unknown-kind',
    });
    expect(unknown.message).toContain('dma.teleported');
    await expectRefused(lab, () => lab.get('/faults?kinds=nope'), {
      status: 400,
      code: 'EVALIDATION',
      reason: 'unknown-kind',
    });
    for (const query of [
      'limit=0',
      'limit=1001',
      'limit=ten',
      'after=-2',
      'stage=3',
      'category=BOTH',
      'pasid=-1',
      'colour=red',
    ]) {
      for (const route of ['/events', '/faults'])
        await expectRefused(lab, () => lab.get(`${route}?${query}`), { status: 400, code: 'EVALIDATION' });
    }
  });

  it('the history keeps the most recent events: older ones are dropped, and `oldest` says where it starts', async () => {
    const small = await startServer({ labLimits: { historyEvents: 40, stream: DEFAULT_STREAM_LIMITS } });
    try {
      const lab = await createLab({ preset: 'sva-pri-vtd' }, small.url);
      const result = expectStatus(
        await lab.post('/workloads', { workload: smallWorkload('sva-pri-vtd', 30) }),
        200,
      );
      const emitted = Object.values(result.eventsByKind as Record<string, number>).reduce((a, b) => a + b, 0);
      expect(emitted).toBeGreaterThan(40);
      const page = expectStatus(await lab.get('/events?limit=1000'), 200);
      expect(page.events.length).toBe(40);
      expect(page.events[0].seq).toBe(page.oldest);
      expect(page.next).toBe(page.events.at(-1).seq);
      expect(page.next - page.oldest).toBe(39);
      // Asking for events after one that was dropped starts at the oldest kept.
      expect((await lab.get('/events?after=0&limit=5')).body.events).toEqual(page.events.slice(0, 5));
    } finally {
      await small.close();
    }
  });
});

describe('metrics', () => {
  it('count what happened: transactions, bytes and latencies system-wide and per device; queues per IOMMU', async () => {
    const lab = await createLab({ preset: 'sva-pri-vtd' });
    const before = expectStatus(await lab.get('/metrics'), 200);
    expect(before.system.transactions).toEqual({ completed: 0, faulted: 0, aborted: 0 });
    const dma = expectStatus(
      await lab.post('/dma', {
        device: 'nic0',
        pasid: 1,
        address: hex(USER_BASE),
        length: 300,
        access: 'read',
      }),
      200,
    );
    const after = expectStatus(await lab.get('/metrics'), 200);
    expect(after.system.transactions).toEqual({ completed: 1, faulted: 0, aborted: 0 });
    expect(after.system.bytes).toBe(300);
    expect(after.system.dmaLatencyNs).toMatchObject({ count: 1, max: dma.latencyNs, min: dma.latencyNs });
    expect(after.system.faults.pageRequests).toBe(1);
    expect(after.devices.nic0.transactions).toEqual(after.system.transactions);
    const iommus = expectStatus(await lab.get('/iommus'), 200);
    expect(Object.keys(after.queues)).toEqual(iommus.map((i: Body) => i.id));
    expect(after.queues.vtd0).toEqual(iommus[0].queues);
    expect(after.queues.vtd0.pageRequest.accepted).toBe(1);
  });

  it('an unknown lab has no metrics: 404 ENOENT', async () => {
    const missing = await call(server.url, 'GET', `${API}/labs/nolab/metrics`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'ENOENT', reason: 'no-such-lab' });
  });
});
