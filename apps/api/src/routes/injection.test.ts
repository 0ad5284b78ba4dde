/**
 * Fault injection over REST against a real server: a raw page request from a device with the events it
 * caused, its refusals (nothing changed), and fail-nth armed, read and cleared.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, call, startServer } from '../testing/harness';
import { API, type Body, type Lab, expectRefused, expectStatus, labClient } from '../testing/lab-client';

let server: Running;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

/** Mainline VT-d: nic0 (PRI, 8-bit PASIDs) with a process bound at PASID 1, and plain0 without PRI. */
async function createLab(): Promise<Lab> {
  const config = {
    version: 1,
    iommus: [{ id: 'vtd0', family: 'vtd', profile: 'mainline' }],
    devices: [
      { id: 'nic0', iommu: 'vtd0', ats: true, pri: { capacity: 16 }, pasidBits: 8 },
      { id: 'plain0', iommu: 'vtd0', ats: true },
    ],
    processes: [{ id: 'app', vmas: [{ address: '0x7f0000000000', size: 1 << 20, prot: 'rw' }] }],
    bindings: [{ device: 'nic0', process: 'app' }],
  };
  const created = expectStatus(await call(server.url, 'POST', `${API}/labs`, { config }), 201);
  return labClient(server.url, created.id);
}

const request = {
  pasid: 1,
  prgIndex: 5,
  access: { write: true },
  address: '0x7f0000004000',
  last: true,
};

const put = (lab: Lab, body: unknown) => call(server.url, 'PUT', `${API}/labs/${lab.id}/fail-nth`, body);
const kinds = (events: Body[]) => events.map((event) => event.kind);

describe('POST /labs/:lab/devices/:device/page-requests', () => {
  it('a paused lab runs to its next idle: the request is handled as a device’s own, and its answer finds no PRG outstanding (UPRGI)', async () => {
    const lab = await createLab();
    const body = expectStatus(await lab.post('/devices/nic0/page-requests', request), 200);
    expect(body).toMatchObject({ stopMarker: false, idle: true });
    expect(kinds(body.events)).toEqual(
      expect.arrayContaining([
        'pri.page-request',
        'fault.group',
        'fault.response',
        'pri.unexpected-response',
      ]),
    );
    const byKind = (kind: string) => body.events.find((event: Body) => event.kind === kind);
    expect(byKind('pri.page-request')).toMatchObject({
      request: body.request,
      injected: true,
      flow: null,
      prgIndex: 5,
      pasid: 1,
      address: request.address,
    });
    expect(byKind('fault.group')).toMatchObject({ requests: [body.request], handler: 'sva', faults: 1 });
    expect(byKind('fault.response')).toMatchObject({ request: body.request, code: 'SUCCESS' });
    const device = expectStatus(await lab.get(''), 200).system.devices.find((d: Body) => d.id === 'nic0');
    expect(device.iopf.pri.unexpectedPrgIndex).toBe(true);
  });

  it('a running lab answers 202 at once, with the events so far', async () => {
    const lab = await createLab();
    expectStatus(await lab.post('/clock', { action: 'run', speed: 1e-6 }), 200);
    try {
      const body = expectStatus(await lab.post('/devices/nic0/page-requests', request), 202);
      expect(body.idle).toBe(false);
      expect(kinds(body.events)).toEqual(['pri.page-request']);
    } finally {
      expectStatus(await lab.post('/clock', { action: 'pause' }), 200);
    }
  });

  it('refuses what the device cannot send with the emulator’s code, and changes nothing', async () => {
    const lab = await createLab();
    const inject = (device: string, body: unknown) => () =>
      lab.post(`/devices/${device}/page-requests`, body);
    await expectRefused(lab, inject('nope', request), {
      status: 404,
      code: 'ENOENT',
      reason: 'no-such-device',
    });
    await expectRefused(lab, inject('plain0', request), { status: 422, code: 'EINVAL', reason: 'no-pri' });
    await expectRefused(lab, inject('nic0', { ...request, pasid: 256 }), {
      status: 422,
      code: 'EINVAL',
      reason: 'bad-pasid',
    });
    await expectRefused(lab, inject('nic0', { ...request, stopMarker: true }), {
      status: 422,
      code: 'EINVAL',
      reason: 'bad-stop-marker',
    });
    await expectRefused(lab, inject('nic0', { ...request, address: '0x7f0000004010' }), {
      status: 422,
      code: 'EINVAL',
      reason: 'misaligned',
    });
    const schema = await expectRefused(lab, inject('nic0', { ...request, prgIndex: 512 }), {
      status: 400,
      code: 'EVALIDATION',
    });
    expect(schema.path).toBe('body/prgIndex');
  });
});

describe('PUT / GET / DELETE /labs/:lab/fail-nth', () => {
  it('arms the nth group allocation: that page request group is answered FAILURE, then the counters show it failed', async () => {
    const lab = await createLab();
    const armed = expectStatus(await put(lab, { kind: 'group', n: 1 }), 200);
    expect(armed.find((c: Body) => c.kind === 'group')).toEqual({
      kind: 'group',
      allocations: 0,
      failed: 0,
      remaining: 1,
    });
    const body = expectStatus(await lab.post('/devices/nic0/page-requests', request), 200);
    expect(kinds(body.events)).not.toContain('fault.group');
    expect(body.events.find((event: Body) => event.kind === 'fault.response')).toMatchObject({
      code: 'FAILURE',
      cause: 'group-alloc-failed',
    });
    const counters = expectStatus(await lab.get('/fail-nth'), 200);
    expect(counters.find((c: Body) => c.kind === 'group')).toEqual({
      kind: 'group',
      allocations: 1,
      failed: 1,
      remaining: null,
    });
  });

  it('a failed domain allocation is the emulator’s ENOMEM, and DELETE disarms one kind or all', async () => {
    const lab = await createLab();
    expectStatus(await put(lab, { kind: 'domain', n: 1 }), 200);
    expectStatus(await put(lab, { kind: 'pasid', n: 2 }), 200);
    const refused = await lab.post('/domains', { iommu: 'vtd0', type: 'dma' });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ code: 'ENOMEM', reason: 'fail-nth' });
    expectStatus(await put(lab, { kind: 'domain', n: 1 }), 200);
    const one = expectStatus(await lab.del('/fail-nth?kind=domain'), 200);
    expect(one.map((c: Body) => [c.kind, c.remaining])).toEqual([
      ['group', null],
      ['fault-queue-slot', null],
      ['domain', null],
      ['pasid', 2],
    ]);
    expectStatus(await lab.post('/domains', { iommu: 'vtd0', type: 'dma' }), 201);
    const all = expectStatus(await lab.del('/fail-nth'), 200);
    expect(all.map((c: Body) => c.remaining)).toEqual([null, null, null, null]);
  });

  it('refuses an unknown kind or an n below 1 by the schema, and arms nothing', async () => {
    const lab = await createLab();
    for (const body of [
      { kind: 'iotlb', n: 1 },
      { kind: 'group', n: 0 },
      { kind: 'group', n: 1, extra: true },
    ]) {
      const response = await put(lab, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.code).toBe('EVALIDATION');
    }
    const counters = expectStatus(await lab.get('/fail-nth'), 200);
    expect(counters.map((c: Body) => c.remaining)).toEqual([null, null, null, null]);
  });
});
