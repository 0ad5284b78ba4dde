/**
 * The things inside a lab over REST against a real server: IOMMUs, devices (features, attachment, SVA
 * bonds, fault handlers, ATC), processes and their VMAs, domains, mappings, translation and walks. Each
 * refusal must come back with the kernel's code (and reason, and profile where the profile decided) and
 * leave the lab exactly as it was: its whole picture and its metrics are compared before and after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Response, type Running, call, startServer } from '../testing/harness';
import {
  API,
  type Body,
  type Lab,
  expectRefused,
  expectStatus,
  labClient as sharedLabClient,
} from '../testing/lab-client';

const PAGE = 4096;
const MiB = 1024 * 1024;

let server: Running;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const labClient = (lab: string) => sharedLabClient(server.url, lab);

async function newLab(): Promise<Lab> {
  const created = await call(server.url, 'POST', `${API}/labs`, {});
  return labClient(expectStatus(created, 201).id);
}

/** A PCIe function with ATS, PRI and PASID, as SVA over PRI needs. */
const PRI_DEVICE = { ats: true, pri: { capacity: 32 }, pasidBits: 20 };

/** A lab with one VT-d IOMMU `vtd0` under `profile`, built over REST. */
async function vtdLab(profile: 'seed-5.13' | 'mainline' | 'proposal', extra: Body = {}): Promise<Lab> {
  const lab = await newLab();
  expectStatus(await lab.post('/iommus', { id: 'vtd0', family: 'vtd', profile, ...extra }), 201);
  return lab;
}

/** A device `nic0` behind vtd0 with a DMA domain `d` attached at its RID, 3 pages mapped at 0 and read. */
async function labWithWarmCaches(profile: 'seed-5.13' | 'proposal' = 'seed-5.13'): Promise<Lab> {
  const lab = await vtdLab(profile);
  expectStatus(await lab.post('/devices', { id: 'nic0', iommu: 'vtd0', ats: true }), 201);
  expectStatus(await lab.post('/domains', { id: 'd', iommu: 'vtd0', type: 'dma' }), 201);
  expectStatus(await lab.post('/domains/d/mappings', { iova: '0x0', size: 3 * PAGE, prot: 'rw' }), 201);
  expectStatus(await lab.post('/devices/nic0/attach', { domain: 'd' }), 200);
  const dma = await lab.post('/dma', { device: 'nic0', address: '0x0', length: 3 * PAGE, access: 'read' });
  expect(expectStatus(dma, 200).state).toBe('completed');
  return lab;
}

describe('IOMMUs', () => {
  it('POST adds an IOMMU with its family, profile, default capabilities and queues; GET and the list agree', async () => {
    const lab = await newLab();
    const added = expectStatus(
      await lab.post('/iommus', { id: 'vtd0', family: 'vtd', profile: 'seed-5.13' }),
      201,
    );
    expect(added).toMatchObject({ id: 'vtd0', family: 'vtd', profile: 'seed-5.13', devices: [] });
    expect(added.queues.pageRequest.depth).toBe(added.capabilities.pageRequestQueueDepth);
    expect(added.queues.fault.depth).toBe(added.capabilities.faultQueueDepth);
    expect(expectStatus(await lab.get('/iommus/vtd0'), 200)).toEqual(added);
    expect(expectStatus(await lab.get('/iommus'), 200)).toEqual([added]);
  });

  it('given capabilities override the family defaults; an IOMMU without an id gets a fresh name', async () => {
    const lab = await newLab();
    const defaults = expectStatus(await lab.post('/iommus', { family: 'smmuv3', profile: 'proposal' }), 201);
    const custom = expectStatus(
      await lab.post('/iommus', {
        family: 'smmuv3',
        profile: 'proposal',
        capabilities: { pasidBits: 8, pageRequestQueueDepth: 16 },
      }),
      201,
    );
    expect(custom.id).not.toBe(defaults.id);
    expect(custom.capabilities).toEqual({
      ...defaults.capabilities,
      pasidBits: 8,
      pageRequestQueueDepth: 16,
    });
    expect(custom.queues.pageRequest.depth).toBe(16);
    const listed = expectStatus(await lab.get('/iommus'), 200);
    expect(listed.map((iommu: Body) => iommu.id)).toEqual([defaults.id, custom.id]);
  });

  it('refusals: a taken id (409 EEXIST), stall on VT-d and page sizes without 4K (422 EINVAL), a bad profile (400)', async () => {
    const lab = await vtdLab('seed-5.13');
    await expectRefused(lab, () => lab.post('/iommus', { id: 'vtd0', family: 'vtd', profile: 'mainline' }), {
      status: 409,
      code: 'EEXIST',
      reason: 'id-taken',
    });
    await expectRefused(
      lab,
      () => lab.post('/iommus', { family: 'vtd', profile: 'mainline', capabilities: { stall: true } }),
      { status: 422, code: 'EINVAL', reason: 'bad-capability' },
    );
    await expectRefused(
      lab,
      () =>
        lab.post('/iommus', { family: 'smmuv3', profile: 'mainline', capabilities: { pageSizes: ['2M'] } }),
      { status: 422, code: 'EINVAL', reason: 'bad-capability' },
    );
    await expectRefused(lab, () => lab.post('/iommus', { family: 'vtd', profile: 'linux-2.6' }), {
      status: 400,
      code: 'EVALIDATION',
    });
    await expectRefused(lab, () => lab.get('/iommus/vtd9'), { status: 404, code: 'ENOENT' });
  });

  it('invalidate drops the IOTLB entries in its scope and says how many; all of them without a scope', async () => {
    const lab = await labWithWarmCaches();
    const valid = (await lab.get('/iommus/vtd0')).body.iotlb.valid;
    expect(valid).toBe(3);
    const range = expectStatus(
      await lab.post('/iommus/vtd0/invalidate', { domain: 'd', iova: '0x1000', size: PAGE }),
      200,
    );
    expect(range).toEqual({ entries: 1 });
    expect((await lab.get('/iommus/vtd0')).body.iotlb.valid).toBe(valid - 1);
    const all = expectStatus(await lab.post('/iommus/vtd0/invalidate', {}), 200);
    expect(all).toEqual({ entries: valid - 1 });
    expect((await lab.get('/iommus/vtd0')).body.iotlb.valid).toBe(0);
    const events = (await lab.get('/events?kinds=iotlb.invalidated')).body.events;
    expect(events.filter((e: Body) => e.cause === 'explicit').map((e: Body) => [e.scope, e.entries])).toEqual(
      [
        ['range', 1],
        ['all', valid - 1],
      ],
    );
  });

  it('invalidate refuses a PASID without a domain, a size without an iova, a foreign domain, a misaligned iova', async () => {
    const lab = await labWithWarmCaches();
    expectStatus(await lab.post('/iommus', { id: 'vtd1', family: 'vtd', profile: 'seed-5.13' }), 201);
    await expectRefused(lab, () => lab.post('/iommus/vtd0/invalidate', { pasid: 1 }), {
      status: 422,
      code: 'EINVAL',
      reason: 'bad-scope',
    });
    await expectRefused(lab, () => lab.post('/iommus/vtd0/invalidate', { size: PAGE }), {
      status: 422,
      code: 'EINVAL',
      reason: 'bad-scope',
    });
    await expectRefused(lab, () => lab.post('/iommus/vtd1/invalidate', { domain: 'd' }), {
      status: 422,
      code: 'EINVAL',
      reason: 'foreign-domain',
    });
    await expectRefused(lab, () => lab.post('/iommus/vtd0/invalidate', { iova: '0x10' }), {
      status: 422,
      code: 'EINVAL',
      reason: 'misaligned',
    });
    await expectRefused(lab, () => lab.post('/iommus/vtd9/invalidate', {}), { status: 404, code: 'ENOENT' });
  });
});

describe('devices', () => {
  it('POST adds a PCIe function at the first free requester ID; GET, the list and its IOMMU show it', async () => {
    const lab = await vtdLab('seed-5.13');
    const first = expectStatus(await lab.post('/devices', { id: 'nic0', iommu: 'vtd0', ...PRI_DEVICE }), 201);
    expect(first).toMatchObject({
      id: 'nic0',
      iommu: 'vtd0',
      kind: 'pci',
      capabilities: { ats: true, priCapacity: 32, pasidBits: 20 },
      features: [],
      domain: null,
      handlers: [],
    });
    const second = expectStatus(await lab.post('/devices', { id: 'nic1', iommu: 'vtd0' }), 201);
    expect(second.rid).not.toBe(first.rid);
    expect(second.atc).toBeNull(); // no ATS, no ATC
    expect(expectStatus(await lab.get('/devices/nic0'), 200)).toEqual(first);
    expect(expectStatus(await lab.get('/devices'), 200)).toEqual([first, second]);
    expect((await lab.get('/iommus/vtd0')).body.devices).toEqual(['nic0', 'nic1']);
  });

  it('refusals: platform behind VT-d, PRI without ATS, a stalling PCIe function (422), a taken RID or id (409), no IOMMU (404)', async () => {
    const lab = await vtdLab('seed-5.13');
    expectStatus(await lab.post('/devices', { id: 'nic0', iommu: 'vtd0', rid: '02:00.0' }), 201);
    const cases: [Body, { status: number; code: string; reason?: string }][] = [
      [
        { iommu: 'vtd0', kind: 'platform' },
        { status: 422, code: 'EINVAL', reason: 'bad-device-kind' },
      ],
      [
        { iommu: 'vtd0', pri: { capacity: 8 } },
        { status: 422, code: 'EINVAL', reason: 'bad-capability' },
      ],
      [
        { iommu: 'vtd0', stall: true },
        { status: 422, code: 'EINVAL', reason: 'bad-capability' },
      ],
      [
        { iommu: 'vtd0', rid: '02:00.0' },
        { status: 409, code: 'EEXIST', reason: 'rid-taken' },
      ],
      [
        { id: 'nic0', iommu: 'vtd0' },
        { status: 409, code: 'EEXIST', reason: 'id-taken' },
      ],
      [{ iommu: 'vtd7' }, { status: 404, code: 'ENOENT', reason: 'no-such-iommu' }],
      [
        { iommu: 'vtd0', rid: '1:2:3' },
        { status: 400, code: 'EVALIDATION' },
      ],
    ];
    for (const [body, expected] of cases)
      await expectRefused(lab, () => lab.post('/devices', body), expected);
    await expectRefused(lab, () => lab.get('/devices/nic9'), { status: 404, code: 'ENOENT' });
  });

  it('a function-level reset empties the device ATC and is announced (device.reset)', async () => {
    const lab = await labWithWarmCaches();
    expect((await lab.get('/devices/nic0')).body.atc.valid).toBeGreaterThan(0);
    const reset = expectStatus(await lab.post('/devices/nic0/reset'), 200);
    expect(reset.atc.valid).toBe(0);
    expect(reset.domain).toBe('d'); // a reset is not a detach
    const events = (await lab.get('/events?kinds=device.reset')).body.events;
    expect(events).toEqual([expect.objectContaining({ kind: 'device.reset', device: 'nic0', aborted: 0 })]);
    await expectRefused(lab, () => lab.post('/devices/nic9/reset'), { status: 404, code: 'ENOENT' });
  });

  it('ATC invalidate drops the device’s cached translations and says how many', async () => {
    const lab = await labWithWarmCaches();
    const valid = (await lab.get('/devices/nic0')).body.atc.valid;
    expect(valid).toBe(3);
    expect(
      expectStatus(await lab.post('/devices/nic0/atc/invalidate', { iova: '0x0', size: PAGE }), 200),
    ).toEqual({
      entries: 1,
    });
    expect(expectStatus(await lab.post('/devices/nic0/atc/invalidate', {}), 200)).toEqual({
      entries: valid - 1,
    });
    expect((await lab.get('/devices/nic0')).body.atc.valid).toBe(0);
  });

  it('ATC invalidate refuses a device without ATS (no-atc) and a size without an iova (bad-scope)', async () => {
    const lab = await labWithWarmCaches();
    expectStatus(await lab.post('/devices', { id: 'plain', iommu: 'vtd0' }), 201);
    await expectRefused(lab, () => lab.post('/devices/plain/atc/invalidate', {}), {
      status: 422,
      code: 'EINVAL',
      reason: 'no-atc',
    });
    await expectRefused(lab, () => lab.post('/devices/nic0/atc/invalidate', { size: PAGE }), {
      status: 422,
      code: 'EINVAL',
      reason: 'bad-scope',
    });
    await expectRefused(lab, () => lab.post('/devices/nic0/atc/invalidate', { pasid: 2 ** 20 }), {
      status: 400,
      code: 'EVALIDATION',
    });
  });
});

describe('device features (seed-5.13, proposal: IOPF before SVA, reference §3)', () => {
  async function seedDevice(spec: Body = PRI_DEVICE): Promise<Lab> {
    const lab = await vtdLab('seed-5.13');
    expectStatus(await lab.post('/devices', { id: 'nic0', iommu: 'vtd0', ...spec }), 201);
    return lab;
  }

  it('enable IOPF then SVA, disable SVA then IOPF: PRI switched on with Allocation = min(Capacity, PRQ depth)', async () => {
    const lab = await seedDevice();
    const prqDepth = (await lab.get('/iommus/vtd0')).body.capabilities.pageRequestQueueDepth;
    const iopf = expectStatus(await lab.put('/devices/nic0/features/IOPF'), 200);
    expect(iopf.features).toEqual(['IOPF']);
    expect(iopf.iopf.pri).toMatchObject({ enabled: true, allocation: Math.min(32, prqDepth) });
    const sva = expectStatus(await lab.put('/devices/nic0/features/SVA'), 200);
    expect(sva.features).toEqual(['IOPF', 'SVA']);
    // seed-5.13: enabling SVA registers the kernel's handler (iommu_queue_iopf) as the device's one handler.
    expect(sva.handlers).toEqual([{ slot: '*', handler: expect.objectContaining({ type: 'sva' }) }]);
    const noSva = expectStatus(await lab.del('/devices/nic0/features/SVA'), 200);
    expect(noSva.features).toEqual(['IOPF']);
    expect(noSva.handlers).toEqual([]);
    const none = expectStatus(await lab.del('/devices/nic0/features/IOPF'), 200);
    expect(none.features).toEqual([]);
    expect(none.iopf.pri).toMatchObject({ enabled: false, allocation: 0 });
  });

  it('SVA before IOPF is refused with the kernel’s code: 422 EINVAL (iopf-before-sva), nothing changed', async () => {
    const lab = await seedDevice();
    const body = await expectRefused(lab, () => lab.put('/devices/nic0/features/SVA'), {
      status: 422,
      code: 'EINVAL',
      reason: 'iopf-before-sva',
    });
    expect(body.message).toContain('IOPF');
  });

  it('IOPF cannot be disabled while SVA is on: 409 EBUSY (sva-before-iopf)', async () => {
    const lab = await seedDevice();
    expectStatus(await lab.put('/devices/nic0/features/IOPF'), 200);
    expectStatus(await lab.put('/devices/nic0/features/SVA'), 200);
    await expectRefused(lab, () => lab.del('/devices/nic0/features/IOPF'), {
      status: 409,
      code: 'EBUSY',
      reason: 'sva-before-iopf',
    });
  });

  it('a device that manages its own faults may enable SVA without IOPF', async () => {
    const lab = await seedDevice({ pasidBits: 20, managesOwnFaults: true });
    const sva = expectStatus(await lab.put('/devices/nic0/features/SVA'), 200);
    expect(sva.features).toEqual(['SVA']);
  });

  it('refusals: enabling twice (409 EBUSY), disabling what is off (422 EINVAL), IOPF without PRI (422 ENODEV), an unknown feature (400)', async () => {
    const lab = await seedDevice();
    expectStatus(await lab.post('/devices', { id: 'plain', iommu: 'vtd0' }), 201);
    expectStatus(await lab.put('/devices/nic0/features/IOPF'), 200);
    await expectRefused(lab, () => lab.put('/devices/nic0/features/IOPF'), {
      status: 409,
      code: 'EBUSY',
      reason: 'already-enabled',
    });
    await expectRefused(lab, () => lab.del('/devices/nic0/features/AUX'), {
      status: 422,
      code: 'EINVAL',
      reason: 'not-enabled',
    });
    await expectRefused(lab, () => lab.put('/devices/plain/features/IOPF'), {
      status: 422,
      code: 'ENODEV',
      reason: 'capability-missing',
    });
    const body = await expectRefused(lab, () => lab.put('/devices/nic0/features/PRI'), {
      status: 400,
      code: 'EVALIDATION',
    });
    expect(body.path).toBe('params/feature');
    await expectRefused(lab, () => lab.put('/devices/nic9/features/IOPF'), { status: 404, code: 'ENOENT' });
  });

  it('under mainline there are no feature calls: 422 EPROFILE naming the profile, for enable and disable', async () => {
    const lab = await vtdLab('mainline');
    expectStatus(await lab.post('/devices', { id: 'nic0', iommu: 'vtd0', ...PRI_DEVICE }), 201);
    for (const request of [
      () => lab.put('/devices/nic0/features/IOPF'),
      () => lab.del('/devices/nic0/features/SVA'),
    ]) {
      const body = await expectRefused(lab, request, {
        status: 422,
        code: 'EPROFILE',
        reason: 'not-in-profile',
        profile: 'mainline',
      });
      expect(body.message).toContain('mainline');
    }
  });
});

describe('attach and detach', () => {
  async function labWithDomains(): Promise<Lab> {
    const lab = await vtdLab('seed-5.13');
    expectStatus(await lab.post('/iommus', { id: 'vtd1', family: 'vtd', profile: 'seed-5.13' }), 201);
    expectStatus(await lab.post('/devices', { id: 'nic0', iommu: 'vtd0', ...PRI_DEVICE }), 201);
    for (const [id, iommu] of [
      ['a', 'vtd0'],
      ['b', 'vtd0'],
      ['far', 'vtd1'],
    ])
      expectStatus(await lab.post('/domains', { id, iommu, type: 'dma' }), 201);
    return lab;
  }

  it('attach at the requester ID, then detach: the device and the domain both say so', async () => {
    const lab = await labWithDomains();
    const attached = expectStatus(await lab.post('/devices/nic0/attach', { domain: 'a' }), 200);
    expect(attached.domain).toBe('a');
    expect((await lab.get('/domains/a')).body.attachments).toEqual([{ device: 'nic0', pasid: null }]);
    const detached = expectStatus(await lab.post('/devices/nic0/detach', {}), 200);
    expect(detached.domain).toBeNull();
    expect((await lab.get('/domains/a')).body.attachments).toEqual([]);
  });

  it('attaching over an attached domain is 409 EBUSY (attached) unless replace is given', async () => {
    const lab = await labWithDomains();
    expectStatus(await lab.post('/devices/nic0/attach', { domain: 'a' }), 200);
    await expectRefused(lab, () => lab.post('/devices/nic0/attach', { domain: 'b' }), {
      status: 409,
      code: 'EBUSY',
      reason: 'attached',
    });
    const replaced = expectStatus(
      await lab.post('/devices/nic0/attach', { domain: 'b', replace: true }),
      200,
    );
    expect(replaced.domain).toBe('b');
    expect((await lab.get('/domains/a')).body.attachments).toEqual([]);
  });

  it('refusals: a domain of another IOMMU (foreign-domain), detach with nothing attached (404), a PASID out of range (400)', async () => {
    const lab = await labWithDomains();
    await expectRefused(lab, () => lab.post('/devices/nic0/attach', { domain: 'far' }), {
      status: 422,
      code: 'EINVAL',
      reason: 'foreign-domain',
    });
    await expectRefused(lab, () => lab.post('/devices/nic0/detach', {}), {
      status: 404,
      code: 'ENOENT',
      reason: 'not-attached',
    });
    await expectRefused(lab, () => lab.post('/devices/nic0/attach', { domain: 'a', pasid: 2 ** 20 }), {
      status: 400,
      code: 'EVALIDATION',
    });
    await expectRefused(lab, () => lab.post('/devices/nic0/attach', { domain: 'nothing' }), {
      status: 404,
      code: 'ENOENT',
    });
  });

  it('seed-5.13: a DMA domain reaches a PASID only as an AUX domain (EPERM without AUX, attached with it)', async () => {
    const lab = await labWithDomains();
    await expectRefused(lab, () => lab.post('/devices/nic0/attach', { domain: 'a', pasid: 5 }), {
      status: 422,
      code: 'EPERM',
      reason: 'aux-not-enabled',
    });
    expectStatus(await lab.put('/devices/nic0/features/AUX'), 200);
    const attached = expectStatus(await lab.post('/devices/nic0/attach', { domain: 'a', pasid: 5 }), 200);
    expect(attached.pasids).toEqual([{ pasid: 5, domain: 'a' }]);
    expect(attached.domain).toBeNull();
    await expectRefused(lab, () => lab.del('/devices/nic0/features/AUX'), {
      status: 409,
      code: 'EBUSY',
      reason: 'aux-attached',
    });
    const detached = expectStatus(await lab.post('/devices/nic0/detach', { pasid: 5 }), 200);
    expect(detached.pasids).toEqual([]);
  });
});

describe('SVA bind and unbind (reference §3)', () => {
  async function svaLab(deviceSpec: Body = PRI_DEVICE): Promise<Lab> {
    const lab = await vtdLab('seed-5.13');
    expectStatus(await lab.post('/devices', { id: 'nic0', iommu: 'vtd0', ...deviceSpec }), 201);
    expectStatus(await lab.put('/devices/nic0/features/IOPF'), 200);
    expectStatus(await lab.put('/devices/nic0/features/SVA'), 200);
    for (const id of ['app', 'other']) expectStatus(await lab.post('/processes', { id }), 201);
    return lab;
  }

  it('bind returns the process’s PASID and its SVA domain; the process, device and domain agree', async () => {
    const lab = await svaLab();
    const bound = expectStatus(await lab.post('/devices/nic0/bind', { process: 'app' }), 200);
    expect(bound.pasid).toBeGreaterThan(0); // PASID 0 is IOMMU_NO_PASID
    expect((await lab.get('/processes/app')).body.pasid).toBe(bound.pasid);
    const device = (await lab.get('/devices/nic0')).body;
    expect(device.bonds).toEqual([{ process: 'app', pasid: bound.pasid, refs: 1 }]);
    expect(device.pasids).toEqual([{ pasid: bound.pasid, domain: bound.domain }]);
    const domain = (await lab.get(`/domains/${bound.domain}`)).body;
    expect(domain).toMatchObject({
      type: 'sva',
      process: 'app',
      attachments: [{ device: 'nic0', pasid: bound.pasid }],
    });
  });

  it('one PASID per mm: another process gets another PASID; binding the same process again takes a reference', async () => {
    const lab = await svaLab();
    const first = expectStatus(await lab.post('/devices/nic0/bind', { process: 'app' }), 200);
    const other = expectStatus(await lab.post('/devices/nic0/bind', { process: 'other' }), 200);
    expect(other.pasid).not.toBe(first.pasid);
    const again = expectStatus(await lab.post('/devices/nic0/bind', { process: 'app' }), 200);
    expect(again).toEqual(first);
    const bonds = (await lab.get('/devices/nic0')).body.bonds;
    expect(bonds).toContainEqual({ process: 'app', pasid: first.pasid, refs: 2 });
  });

  it('unbind drops a reference, and at the last the bond and its SVA domain; the PASID stays with the mm until exit', async () => {
    const lab = await svaLab();
    const bound = expectStatus(await lab.post('/devices/nic0/bind', { process: 'app' }), 200);
    expectStatus(await lab.post('/devices/nic0/bind', { process: 'app' }), 200);
    const once = expectStatus(await lab.post('/devices/nic0/unbind', { process: 'app' }), 200);
    expect(once.bonds).toEqual([{ process: 'app', pasid: bound.pasid, refs: 1 }]);
    const last = expectStatus(await lab.post('/devices/nic0/unbind', { process: 'app' }), 200);
    expect(last.bonds).toEqual([]);
    expect(last.pasids).toEqual([]);
    expect((await lab.get(`/domains/${bound.domain}`)).status).toBe(404);
    expect((await lab.get('/processes/app')).body.pasid).toBe(bound.pasid);
    const exited = expectStatus(await lab.post('/processes/app/exit'), 200);
    expect(exited.pasid).toBeNull();
  });

  it('refusals: unbind without a bond (404 ENOENT), bind without SVA (422 ENODEV), an exited process (404 ESRCH)', async () => {
    const lab = await svaLab();
    await expectRefused(lab, () => lab.post('/devices/nic0/unbind', { process: 'app' }), {
      status: 404,
      code: 'ENOENT',
      reason: 'not-bound',
    });
    expectStatus(
      await lab.post('/devices', { id: 'nosva', iommu: 'vtd0', ...PRI_DEVICE, rid: '03:00.0' }),
      201,
    );
    await expectRefused(lab, () => lab.post('/devices/nosva/bind', { process: 'app' }), {
      status: 422,
      code: 'ENODEV',
      reason: 'sva-not-enabled',
    });
    expectStatus(await lab.post('/processes/other/exit'), 200);
    await expectRefused(lab, () => lab.post('/devices/nic0/bind', { process: 'other' }), {
      status: 404,
      code: 'ESRCH',
      reason: 'exited',
    });
    await expectRefused(lab, () => lab.post('/devices/nic0/bind', { process: 'ghost' }), {
      status: 404,
      code: 'ENOENT',
    });
  });

  it('an mm PASID at or above a device’s max_pasids is 422 EOVERFLOW; no free PASID below it is 422 ENOSPC', async () => {
    const lab = await svaLab();
    // pasidBits 1: PASIDs 0 and 1, and 0 is IOMMU_NO_PASID, so one process fits.
    expectStatus(
      await lab.post('/devices', { id: 'small', iommu: 'vtd0', ...PRI_DEVICE, pasidBits: 1, rid: '04:00.0' }),
      201,
    );
    expectStatus(await lab.put('/devices/small/features/IOPF'), 200);
    expectStatus(await lab.put('/devices/small/features/SVA'), 200);
    const first = expectStatus(await lab.post('/devices/nic0/bind', { process: 'app' }), 200);
    const second = expectStatus(await lab.post('/devices/nic0/bind', { process: 'other' }), 200);
    expect([first.pasid, second.pasid]).toEqual([1, 2]);
    expectStatus(await lab.post('/devices/small/bind', { process: 'app' }), 200);
    await expectRefused(lab, () => lab.post('/devices/small/bind', { process: 'other' }), {
      status: 422,
      code: 'EOVERFLOW',
      reason: 'pasid-too-large',
    });
    expectStatus(await lab.post('/processes', { id: 'third' }), 201);
    await expectRefused(lab, () => lab.post('/devices/small/bind', { process: 'third' }), {
      status: 422,
      code: 'ENOSPC',
      reason: 'pasid-space-exhausted',
    });
  });

  it('SVA cannot be disabled while a process is bound: 409 EBUSY (bound)', async () => {
    const lab = await svaLab();
    expectStatus(await lab.post('/devices/nic0/bind', { process: 'app' }), 200);
    await expectRefused(lab, () => lab.del('/devices/nic0/features/SVA'), {
      status: 409,
      code: 'EBUSY',
      reason: 'bound',
    });
  });
});

describe('device fault handlers (reference §1, proposal categories)', () => {
  it('seed-5.13: one handler per device; a second is 409 EBUSY; unregister "all" removes it', async () => {
    const lab = await vtdLab('seed-5.13');
    expectStatus(await lab.post('/devices', { id: 'nic0', iommu: 'vtd0', ...PRI_DEVICE }), 201);
    const handler = expectStatus(
      await lab.post('/devices/nic0/handlers', {
        type: 'external',
        timeoutNs: 5000,
        timeoutResponse: 'FAILURE',
      }),
      201,
    );
    expect(handler).toMatchObject({
      type: 'external',
      categories: null,
      timeoutNs: 5000,
      timeoutResponse: 'FAILURE',
    });
    expect((await lab.get('/devices/nic0')).body.handlers).toEqual([{ slot: '*', handler }]);
    await expectRefused(lab, () => lab.post('/devices/nic0/handlers', { type: 'sva' }), {
      status: 409,
      code: 'EBUSY',
      reason: 'handler-registered',
    });
    // A user handler and SVA exclude each other: SVA would register the kernel's.
    expectStatus(await lab.put('/devices/nic0/features/IOPF'), 200);
    await expectRefused(lab, () => lab.put('/devices/nic0/features/SVA'), {
      status: 409,
      code: 'EBUSY',
      reason: 'handler-registered',
    });
    const removed = expectStatus(await lab.del('/devices/nic0/handlers/all'), 200);
    expect(removed.handlers).toEqual([]);
    await expectRefused(lab, () => lab.del('/devices/nic0/handlers/all'), {
      status: 404,
      code: 'ENOENT',
      reason: 'no-handler',
    });
  });

  it('seed-5.13 has no categories: a handler naming some is 422 EINVAL (no-categories)', async () => {
    const lab = await vtdLab('seed-5.13');
    expectStatus(await lab.post('/devices', { id: 'nic0', iommu: 'vtd0', ...PRI_DEVICE }), 201);
    await expectRefused(
      lab,
      () => lab.post('/devices/nic0/handlers', { type: 'external', categories: ['MAP'] }),
      {
        status: 422,
        code: 'EINVAL',
        reason: 'no-categories',
      },
    );
  });

  it('proposal: a handler takes its categories’ slots; one per category; unregister by slot', async () => {
    const lab = await vtdLab('proposal');
    expectStatus(await lab.post('/devices', { id: 'nic0', iommu: 'vtd0', ...PRI_DEVICE }), 201);
    const map = expectStatus(
      await lab.post('/devices/nic0/handlers', {
        type: 'map',
        region: { iova: '0x0', size: 4 * MiB },
        pinBudgetPages: 64,
      }),
      201,
    );
    expect(map).toMatchObject({ type: 'map', categories: ['MAP'] });
    const bind = expectStatus(
      await lab.post('/devices/nic0/handlers', { type: 'external', categories: ['BIND'] }),
      201,
    );
    expect(bind.categories).toEqual(['BIND']);
    const slots = (await lab.get('/devices/nic0')).body.handlers.map((h: Body) => [h.slot, h.handler.type]);
    expect(slots.sort()).toEqual([
      ['BIND', 'external'],
      ['MAP', 'map'],
    ]);
    await expectRefused(
      lab,
      () => lab.post('/devices/nic0/handlers', { type: 'external', categories: ['MAP'] }),
      {
        status: 409,
        code: 'EBUSY',
        reason: 'handler-registered',
      },
    );
    const afterMap = expectStatus(await lab.del('/devices/nic0/handlers/MAP'), 200);
    expect(afterMap.handlers.map((h: Body) => h.slot)).toEqual(['BIND']);
    await expectRefused(lab, () => lab.del('/devices/nic0/handlers/MAP'), {
      status: 404,
      code: 'ENOENT',
      reason: 'no-handler',
    });
  });

  it('proposal: a category the driver does not support is 422 EOPNOTSUPP naming the profile', async () => {
    const lab = await vtdLab('proposal', { driver: { faultCategories: ['BIND'] } });
    expectStatus(await lab.post('/devices', { id: 'nic0', iommu: 'vtd0', ...PRI_DEVICE }), 201);
    const body = await expectRefused(
      lab,
      () =>
        lab.post('/devices/nic0/handlers', {
          type: 'map',
          categories: ['MAP'],
          region: { iova: '0x0', size: MiB },
          pinBudgetPages: 16,
        }),
      { status: 422, code: 'EOPNOTSUPP', reason: 'category-unsupported', profile: 'proposal' },
    );
    expect(body.message).toContain('MAP');
    // The category it does support is accepted.
    expectStatus(await lab.post('/devices/nic0/handlers', { type: 'external', categories: ['BIND'] }), 201);
  });

  it('refusals: SVA for MAP faults and a guest handler on a device (422 EINVAL), mainline device handlers (EPROFILE), bad bodies (400)', async () => {
    const proposal = await vtdLab('proposal');
    expectStatus(await proposal.post('/devices', { id: 'nic0', iommu: 'vtd0', ...PRI_DEVICE }), 201);
    await expectRefused(
      proposal,
      () => proposal.post('/devices/nic0/handlers', { type: 'sva', categories: ['MAP'] }),
      {
        status: 422,
        code: 'EINVAL',
        reason: 'bad-categories',
      },
    );
    await expectRefused(
      proposal,
      () =>
        proposal.post('/devices/nic0/handlers', {
          type: 'guest',
          region: { iova: '0x0', size: PAGE, phys: '0x0' },
        }),
      { status: 422, code: 'EINVAL', reason: 'bad-handler' },
    );
    await expectRefused(proposal, () => proposal.post('/devices/nic0/handlers', { type: 'magic' }), {
      status: 400,
      code: 'EVALIDATION',
    });
    await expectRefused(proposal, () => proposal.del('/devices/nic0/handlers/ALL'), {
      status: 400,
      code: 'EVALIDATION',
    });
    const mainline = await vtdLab('mainline');
    expectStatus(await mainline.post('/devices', { id: 'nic0', iommu: 'vtd0', ...PRI_DEVICE }), 201);
    await expectRefused(mainline, () => mainline.post('/devices/nic0/handlers', { type: 'external' }), {
      status: 422,
      code: 'EPROFILE',
      profile: 'mainline',
    });
  });
});

describe('processes', () => {
  it('POST creates a process with a pid and no VMAs; GET and the list agree; ids are unique', async () => {
    const lab = await newLab();
    const first = expectStatus(await lab.post('/processes', { id: 'app' }), 201);
    expect(first).toMatchObject({ id: 'app', pasid: null, exiting: false, vmas: [], residentPages: 0 });
    const second = expectStatus(await lab.post('/processes', {}), 201);
    expect(second.pid).toBeGreaterThan(first.pid);
    expect(expectStatus(await lab.get('/processes/app'), 200)).toEqual(first);
    expect(expectStatus(await lab.get('/processes'), 200)).toEqual([first, second]);
    await expectRefused(lab, () => lab.post('/processes', { id: 'app' }), {
      status: 409,
      code: 'EEXIST',
      reason: 'id-taken',
    });
    await expectRefused(lab, () => lab.get('/processes/nobody'), { status: 404, code: 'ENOENT' });
  });

  it('mmap rounds the length up to whole pages and places a VMA without an address after the last one', async () => {
    const lab = await newLab();
    expectStatus(await lab.post('/processes', { id: 'app' }), 201);
    const first = expectStatus(await lab.post('/processes/app/mmap', { size: PAGE + 1, prot: 'rw' }), 201);
    expect(first.size).toBe(2 * PAGE);
    const second = expectStatus(await lab.post('/processes/app/mmap', { size: PAGE, prot: 'r' }), 201);
    expect(BigInt(second.address)).toBeGreaterThanOrEqual(BigInt(first.address) + BigInt(first.size));
    const fixed = expectStatus(
      await lab.post('/processes/app/mmap', { address: '0x7f0000000000', size: '0x3000', prot: 'rx' }),
      201,
    );
    expect(fixed).toEqual({ address: '0x7f0000000000', size: 3 * PAGE, prot: 'rx' });
    expect((await lab.get('/processes/app')).body.vmas).toEqual([first, second, fixed]);
  });

  it('mmap refuses an overlap (409 EEXIST), a misaligned address (422 EINVAL), a privileged prot (400)', async () => {
    const lab = await newLab();
    expectStatus(await lab.post('/processes', { id: 'app' }), 201);
    expectStatus(
      await lab.post('/processes/app/mmap', { address: '0x10000', size: 4 * PAGE, prot: 'rw' }),
      201,
    );
    await expectRefused(
      lab,
      () => lab.post('/processes/app/mmap', { address: '0x12000', size: 4 * PAGE, prot: 'r' }),
      {
        status: 409,
        code: 'EEXIST',
        reason: 'overlap',
      },
    );
    await expectRefused(
      lab,
      () => lab.post('/processes/app/mmap', { address: '0x40010', size: PAGE, prot: 'r' }),
      {
        status: 422,
        code: 'EINVAL',
        reason: 'misaligned',
      },
    );
    await expectRefused(lab, () => lab.post('/processes/app/mmap', { size: PAGE, prot: 'rp' }), {
      status: 400,
      code: 'EVALIDATION',
    });
    await expectRefused(lab, () => lab.post('/processes/ghost/mmap', { size: PAGE, prot: 'r' }), {
      status: 404,
      code: 'ENOENT',
    });
  });

  it('munmap of the middle of a VMA splits it in two; munmap over nothing is not an error (munmap(2))', async () => {
    const lab = await newLab();
    expectStatus(await lab.post('/processes', { id: 'app' }), 201);
    expectStatus(
      await lab.post('/processes/app/mmap', { address: '0x10000', size: 3 * PAGE, prot: 'rw' }),
      201,
    );
    const split = expectStatus(
      await lab.post('/processes/app/munmap', { address: '0x11000', size: PAGE }),
      200,
    );
    expect(split.vmas).toEqual([
      { address: '0x10000', size: PAGE, prot: 'rw' },
      { address: '0x12000', size: PAGE, prot: 'rw' },
    ]);
    const nothing = expectStatus(
      await lab.post('/processes/app/munmap', { address: '0x900000', size: PAGE }),
      200,
    );
    expect(nothing.vmas).toEqual(split.vmas);
  });

  it('mprotect of part of a VMA splits it with the new permissions; over a hole it is 422 ENOMEM (mprotect(2))', async () => {
    const lab = await newLab();
    expectStatus(await lab.post('/processes', { id: 'app' }), 201);
    expectStatus(
      await lab.post('/processes/app/mmap', { address: '0x10000', size: 2 * PAGE, prot: 'rw' }),
      201,
    );
    const changed = expectStatus(
      await lab.post('/processes/app/mprotect', { address: '0x11000', size: PAGE, prot: 'r' }),
      200,
    );
    expect(changed.vmas).toEqual([
      { address: '0x10000', size: PAGE, prot: 'rw' },
      { address: '0x11000', size: PAGE, prot: 'r' },
    ]);
    await expectRefused(
      lab,
      () => lab.post('/processes/app/mprotect', { address: '0x10000', size: 4 * PAGE, prot: 'r' }),
      { status: 422, code: 'ENOMEM', reason: 'hole' },
    );
    await expectRefused(
      lab,
      () => lab.post('/processes/app/mprotect', { address: '0x10000', size: PAGE, prot: 'rr' }),
      {
        status: 400,
        code: 'EVALIDATION',
      },
    );
  });

  it('populate faults every page of the range in once; reclaim swaps them out and they fault back as major', async () => {
    const lab = await newLab();
    expectStatus(await lab.post('/processes', { id: 'app' }), 201);
    expectStatus(
      await lab.post('/processes/app/mmap', { address: '0x10000', size: 8 * PAGE, prot: 'rw' }),
      201,
    );
    const range = { address: '0x10000', size: 5 * PAGE };
    expect(expectStatus(await lab.post('/processes/app/populate', range), 200)).toEqual({ pages: 5 });
    expect((await lab.get('/processes/app')).body).toMatchObject({ residentPages: 5, faults: { minor: 5 } });
    expect(expectStatus(await lab.post('/processes/app/populate', range), 200)).toEqual({ pages: 0 });
    const reclaimed = expectStatus(
      await lab.post('/processes/app/reclaim', { address: '0x10000', size: 8 * PAGE }),
      200,
    );
    expect(reclaimed).toEqual({ pages: 5 });
    expect((await lab.get('/processes/app')).body).toMatchObject({ residentPages: 0, swappedPages: 5 });
    expect(expectStatus(await lab.post('/processes/app/populate', range), 200)).toEqual({ pages: 5 });
    expect((await lab.get('/processes/app')).body).toMatchObject({
      residentPages: 5,
      swappedPages: 0,
      faults: { minor: 5, major: 5 },
    });
  });

  it('populate outside every VMA is 422 EFAULT (no-vma) and faults nothing in', async () => {
    const lab = await newLab();
    expectStatus(await lab.post('/processes', { id: 'app' }), 201);
    expectStatus(
      await lab.post('/processes/app/mmap', { address: '0x10000', size: 2 * PAGE, prot: 'rw' }),
      201,
    );
    await expectRefused(
      lab,
      () => lab.post('/processes/app/populate', { address: '0x10000', size: 3 * PAGE }),
      {
        status: 422,
        code: 'EFAULT',
        reason: 'no-vma',
      },
    );
  });

  // System.populate checks it has the frames before it faults any page in.
  it('a populate refused for lack of memory (422 ENOMEM) changes nothing', async () => {
    const created = await call(server.url, 'POST', `${API}/labs`, { options: { memoryFrames: 16 } });
    const lab = labClient(expectStatus(created, 201).id);
    expectStatus(await lab.post('/processes', { id: 'app' }), 201);
    expectStatus(
      await lab.post('/processes/app/mmap', { address: '0x10000', size: 32 * PAGE, prot: 'rw' }),
      201,
    );
    await expectRefused(
      lab,
      () => lab.post('/processes/app/populate', { address: '0x10000', size: 32 * PAGE }),
      {
        status: 422,
        code: 'ENOMEM',
      },
    );
  });

  it('exit releases the mm (no VMAs, nothing resident); every later call on it is 404 ESRCH (exited)', async () => {
    const lab = await newLab();
    expectStatus(await lab.post('/processes', { id: 'app' }), 201);
    expectStatus(
      await lab.post('/processes/app/mmap', { address: '0x10000', size: 2 * PAGE, prot: 'rw' }),
      201,
    );
    expectStatus(await lab.post('/processes/app/populate', { address: '0x10000', size: 2 * PAGE }), 200);
    const exited = expectStatus(await lab.post('/processes/app/exit'), 200);
    expect(exited).toMatchObject({ exiting: true, vmas: [], residentPages: 0 });
    const later: (() => Promise<Response<Body>>)[] = [
      () => lab.post('/processes/app/exit'),
      () => lab.post('/processes/app/mmap', { size: PAGE, prot: 'r' }),
      () => lab.post('/processes/app/munmap', { address: '0x10000', size: PAGE }),
      () => lab.post('/processes/app/mprotect', { address: '0x10000', size: PAGE, prot: 'r' }),
      () => lab.post('/processes/app/reclaim', { address: '0x10000', size: PAGE }),
    ];
    for (const request of later)
      await expectRefused(lab, request, { status: 404, code: 'ESRCH', reason: 'exited' });
  });
});

describe('domains', () => {
  it('POST creates blocked, identity and DMA domains; a VT-d DMA domain’s stage follows the profile', async () => {
    const lab = await vtdLab('seed-5.13');
    expectStatus(await lab.post('/iommus', { id: 'modern', family: 'vtd', profile: 'mainline' }), 201);
    const created = [];
    for (const type of ['blocked', 'identity', 'dma']) {
      const domain = expectStatus(await lab.post('/domains', { iommu: 'vtd0', type }), 201);
      expect(domain).toMatchObject({ iommu: 'vtd0', type, attachments: [], mappedBytes: 0 });
      created.push(domain);
    }
    // VT-d DMA domains: second level before v6.x (seed-5.13), first level in mainline.
    expect(created[2].stage).toBe(2);
    const modern = expectStatus(await lab.post('/domains', { iommu: 'modern', type: 'dma' }), 201);
    expect(modern.stage).toBe(1);
    expect(expectStatus(await lab.get('/domains'), 200)).toEqual([...created, modern]);
    expect(expectStatus(await lab.get(`/domains/${modern.id}`), 200)).toEqual(modern);
  });

  it('a nested domain needs a nest-parent DMA domain of the same IOMMU; the refusals say which rule', async () => {
    const lab = await vtdLab('proposal');
    expectStatus(
      await lab.post('/iommus', {
        id: 'flat',
        family: 'vtd',
        profile: 'proposal',
        capabilities: { nesting: false },
      }),
      201,
    );
    expectStatus(await lab.post('/domains', { id: 'plain', iommu: 'vtd0', type: 'dma' }), 201);
    const cases: [Body, { status: number; code: string; reason?: string }][] = [
      [
        { iommu: 'vtd0', type: 'nested' },
        { status: 422, code: 'EINVAL', reason: 'no-parent' },
      ],
      [
        { iommu: 'vtd0', type: 'nested', parent: 'plain' },
        { status: 422, code: 'EINVAL', reason: 'not-nest-parent' },
      ],
      [
        { iommu: 'vtd0', type: 'dma', nestParent: true, stage: 1 },
        { status: 422, code: 'EINVAL', reason: 'bad-domain-spec' },
      ],
      [
        { iommu: 'vtd0', type: 'identity', stage: 2 },
        { status: 422, code: 'EINVAL', reason: 'bad-domain-spec' },
      ],
      [
        { iommu: 'flat', type: 'dma', nestParent: true },
        { status: 422, code: 'EOPNOTSUPP', reason: 'no-nesting' },
      ],
      [
        { iommu: 'vtd0', type: 'nested', parent: 'nothing' },
        { status: 404, code: 'ENOENT' },
      ],
      [
        { id: 'plain', iommu: 'vtd0', type: 'dma' },
        { status: 409, code: 'EEXIST', reason: 'id-taken' },
      ],
      [
        { iommu: 'vtd0', type: 'paging' },
        { status: 400, code: 'EVALIDATION' },
      ],
    ];
    for (const [body, expected] of cases)
      await expectRefused(lab, () => lab.post('/domains', body), expected);
    expectStatus(await lab.post('/domains', { id: 's2', iommu: 'vtd0', type: 'dma', nestParent: true }), 201);
    const nested = expectStatus(
      await lab.post('/domains', { iommu: 'vtd0', type: 'nested', parent: 's2' }),
      201,
    );
    expect(nested).toMatchObject({ type: 'nested', parent: 's2' });
  });

  it('DELETE destroys a domain (204, then 404); not while attached, not a parent, not an SVA domain', async () => {
    const lab = await vtdLab('proposal');
    expectStatus(await lab.post('/devices', { id: 'nic0', iommu: 'vtd0', ...PRI_DEVICE }), 201);
    for (const spec of [
      { id: 'gone', type: 'dma' },
      { id: 'used', type: 'dma' },
      { id: 's2', type: 'dma', nestParent: true },
    ])
      expectStatus(await lab.post('/domains', { iommu: 'vtd0', ...spec }), 201);
    expectStatus(
      await lab.post('/domains', { id: 'child', iommu: 'vtd0', type: 'nested', parent: 's2' }),
      201,
    );
    expectStatus(await lab.post('/devices/nic0/attach', { domain: 'used' }), 200);

    expect(await lab.del('/domains/gone')).toEqual({ status: 204, body: null });
    await expectRefused(lab, () => lab.get('/domains/gone'), { status: 404, code: 'ENOENT' });
    await expectRefused(lab, () => lab.del('/domains/gone'), { status: 404, code: 'ENOENT' });
    await expectRefused(lab, () => lab.del('/domains/used'), {
      status: 409,
      code: 'EBUSY',
      reason: 'attached',
    });
    await expectRefused(lab, () => lab.del('/domains/s2'), {
      status: 409,
      code: 'EBUSY',
      reason: 'has-children',
    });

    expectStatus(await lab.put('/devices/nic0/features/IOPF'), 200);
    expectStatus(await lab.put('/devices/nic0/features/SVA'), 200);
    expectStatus(await lab.post('/processes', { id: 'app' }), 201);
    const bound = expectStatus(await lab.post('/devices/nic0/bind', { process: 'app' }), 200);
    await expectRefused(lab, () => lab.del(`/domains/${bound.domain}`), {
      status: 422,
      code: 'EINVAL',
      reason: 'sva-domain',
    });
  });
});

describe('mappings, unmap, translate and walk', () => {
  async function dmaDomainLab(): Promise<Lab> {
    const lab = await vtdLab('seed-5.13');
    expectStatus(await lab.post('/domains', { id: 'd', iommu: 'vtd0', type: 'dma' }), 201);
    expectStatus(await lab.post('/domains', { id: 'id', iommu: 'vtd0', type: 'identity' }), 201);
    expectStatus(await lab.post('/domains', { id: 'off', iommu: 'vtd0', type: 'blocked' }), 201);
    return lab;
  }

  it('a mapping is what translate answers: phys plus the offset in the page, its prot and leaf size', async () => {
    const lab = await dmaDomainLab();
    const mapped = expectStatus(
      await lab.post('/domains/d/mappings', { iova: '0x40000', size: 2 * PAGE, prot: 'rw' }),
      201,
    );
    expect(mapped).toMatchObject({ iova: '0x40000', size: 2 * PAGE });
    expect((await lab.get('/domains/d')).body.mappedBytes).toBe(2 * PAGE);
    const translated = expectStatus(await lab.get('/domains/d/translate?iova=0x41234'), 200);
    expect(translated).toEqual({
      phys: `0x${(BigInt(mapped.phys) + 0x1234n).toString(16)}`,
      prot: 'rw',
      pageSize: '4K',
    });
    const fixed = expectStatus(
      await lab.post('/domains/d/mappings', { iova: '0x80000', size: PAGE, phys: '0x123000', prot: 'r' }),
      201,
    );
    expect(fixed.phys).toBe('0x123000');
    expect(expectStatus(await lab.get('/domains/d/translate?iova=0x80010'), 200)).toEqual({
      phys: '0x123010',
      prot: 'r',
      pageSize: '4K',
    });
  });

  it('a 2 MiB-aligned 2 MiB range is mapped with a 2M leaf (the largest that fits, as iommu_pgsize chooses)', async () => {
    const lab = await dmaDomainLab();
    expectStatus(await lab.post('/domains/d/mappings', { iova: '0x200000', size: 2 * MiB, prot: 'rw' }), 201);
    expect((await lab.get('/domains/d/translate?iova=0x2abcde')).body.pageSize).toBe('2M');
    const walk = expectStatus(await lab.get('/domains/d/walk?iova=0x2abcde'), 200);
    expect(walk.stage2.at(-1)).toMatchObject({ entry: 'leaf', level: 2, size: '2M' });
  });

  it('mapping refusals: overlap (409 EEXIST), misaligned iova or size, no read or write, not a paging domain, phys beyond memory', async () => {
    const lab = await dmaDomainLab();
    expectStatus(await lab.post('/domains/d/mappings', { iova: '0x10000', size: 4 * PAGE, prot: 'rw' }), 201);
    const cases: [string, Body, { status: number; code: string; reason?: string }][] = [
      [
        'd',
        { iova: '0x12000', size: 4 * PAGE, prot: 'rw' },
        { status: 409, code: 'EEXIST', reason: 'overlap' },
      ],
      [
        'd',
        { iova: '0x40800', size: PAGE, prot: 'rw' },
        { status: 422, code: 'EINVAL', reason: 'misaligned' },
      ],
      [
        'd',
        { iova: '0x40000', size: 100, prot: 'rw' },
        { status: 422, code: 'EINVAL', reason: 'misaligned' },
      ],
      ['d', { iova: '0x40000', size: PAGE, prot: 'x' }, { status: 422, code: 'EINVAL', reason: 'no-access' }],
      [
        'd',
        { iova: '0x40000', size: PAGE, prot: 'rw', phys: '0xfffffffff000' },
        { status: 422, code: 'ERANGE' },
      ],
      [
        'id',
        { iova: '0x40000', size: PAGE, prot: 'rw' },
        { status: 422, code: 'EINVAL', reason: 'not-paging' },
      ],
      ['d', { iova: '40000', size: PAGE, prot: 'rw' }, { status: 400, code: 'EVALIDATION' }],
      ['nothing', { iova: '0x40000', size: PAGE, prot: 'rw' }, { status: 404, code: 'ENOENT' }],
    ];
    for (const [domain, body, expected] of cases)
      await expectRefused(lab, () => lab.post(`/domains/${domain}/mappings`, body), expected);
  });

  it('unmap removes the range (translate then 404 not-mapped); it refuses unmapped pages and splitting a large leaf', async () => {
    const lab = await dmaDomainLab();
    expectStatus(await lab.post('/domains/d/mappings', { iova: '0x10000', size: 2 * PAGE, prot: 'rw' }), 201);
    expectStatus(await lab.post('/domains/d/mappings', { iova: '0x200000', size: 2 * MiB, prot: 'rw' }), 201);
    await expectRefused(lab, () => lab.post('/domains/d/unmap', { iova: '0x10000', size: 3 * PAGE }), {
      status: 404,
      code: 'ENOENT',
      reason: 'not-mapped',
    });
    await expectRefused(lab, () => lab.post('/domains/d/unmap', { iova: '0x200000', size: PAGE }), {
      status: 422,
      code: 'EINVAL',
      reason: 'splits-leaf',
    });
    await expectRefused(lab, () => lab.post('/domains/id/unmap', { iova: '0x0', size: PAGE }), {
      status: 422,
      code: 'EINVAL',
      reason: 'not-paging',
    });
    const unmapped = expectStatus(
      await lab.post('/domains/d/unmap', { iova: '0x10000', size: 2 * PAGE }),
      200,
    );
    expect(unmapped.mappedBytes).toBe(2 * MiB);
    await expectRefused(lab, () => lab.get('/domains/d/translate?iova=0x10000'), {
      status: 404,
      code: 'ENOENT',
      reason: 'not-mapped',
    });
  });

  it('translate: identity maps an address to itself, blocked maps nothing, the iova must be hex (400)', async () => {
    const lab = await dmaDomainLab();
    expect(expectStatus(await lab.get('/domains/id/translate?iova=0xabc123'), 200)).toMatchObject({
      phys: '0xabc123',
    });
    await expectRefused(lab, () => lab.get('/domains/off/translate?iova=0x1000'), {
      status: 404,
      code: 'ENOENT',
      reason: 'not-mapped',
    });
    for (const query of ['?iova=4096', '?iova=0x', '?iova=0x12345678901234567', '']) {
      const body = await expectRefused(lab, () => lab.get(`/domains/d/translate${query}`), {
        status: 400,
        code: 'EVALIDATION',
      });
      expect(body.path).toMatch(/^querystring/);
    }
  });

  it('walk descends one level at a time from the top, ending in the leaf that translates (or the empty entry)', async () => {
    const lab = await dmaDomainLab();
    expectStatus(
      await lab.post('/domains/d/mappings', { iova: '0x10000', size: PAGE, phys: '0x777000', prot: 'rw' }),
      201,
    );
    const walk = expectStatus(await lab.get('/domains/d/walk?iova=0x10008'), 200);
    // seed-5.13 VT-d DMA domains are second level, decoded as VT-d second-level entries.
    expect(Object.keys(walk)).toEqual(['stage2', 'format']);
    expect(walk.format.stage2).toMatch(/^vtd-sl/);
    const levels = walk.stage2.map((step: Body) => step.level);
    expect(levels).toEqual(levels.map((_: number, i: number) => levels[0] - i));
    expect(walk.stage2.slice(0, -1).every((step: Body) => step.entry === 'table')).toBe(true);
    expect(walk.stage2.at(-1)).toMatchObject({ entry: 'leaf', level: 1, output: '0x777000', prot: 'rw' });
    const missing = expectStatus(await lab.get('/domains/d/walk?iova=0x40000000'), 200);
    expect(missing.stage2.at(-1).entry).toBe('empty');
    await expectRefused(lab, () => lab.get('/domains/id/walk?iova=0x0'), {
      status: 422,
      code: 'EINVAL',
      reason: 'not-paging',
    });
  });

  it('a nested domain walks stage 1 to a guest physical address, then stage 2 for it', async () => {
    const lab = await vtdLab('proposal');
    expectStatus(await lab.post('/domains', { id: 's2', iommu: 'vtd0', type: 'dma', nestParent: true }), 201);
    expectStatus(await lab.post('/domains', { id: 'g', iommu: 'vtd0', type: 'nested', parent: 's2' }), 201);
    await expectRefused(
      lab,
      () => lab.post('/domains/g/mappings', { iova: '0x1000', size: PAGE, prot: 'rw' }),
      {
        status: 422,
        code: 'EINVAL',
        reason: 'no-phys',
      },
    );
    expectStatus(
      await lab.post('/domains/g/mappings', { iova: '0x1000', size: PAGE, phys: '0x5000', prot: 'rw' }),
      201,
    );
    const s2 = expectStatus(
      await lab.post('/domains/s2/mappings', { iova: '0x5000', size: PAGE, prot: 'rw' }),
      201,
    );
    const walk = expectStatus(await lab.get('/domains/g/walk?iova=0x1000'), 200);
    expect(walk.stage1.at(-1)).toMatchObject({ entry: 'leaf', output: '0x5000' });
    expect(walk.stage2.at(-1)).toMatchObject({ entry: 'leaf', output: s2.phys });
  });
});

describe('domain fault handlers (mainline iommufd queue, proposal guest queue)', () => {
  it('mainline: a nested domain takes an external handler (iommufd has no FAILURE); one per domain', async () => {
    const lab = await vtdLab('mainline');
    expectStatus(await lab.post('/domains', { id: 's2', iommu: 'vtd0', type: 'dma', nestParent: true }), 201);
    expectStatus(await lab.post('/domains', { id: 'g', iommu: 'vtd0', type: 'nested', parent: 's2' }), 201);
    await expectRefused(
      lab,
      () => lab.post('/domains/g/handler', { type: 'external', timeoutResponse: 'FAILURE' }),
      {
        status: 422,
        code: 'EINVAL',
        reason: 'bad-response-code',
      },
    );
    const handler = expectStatus(await lab.post('/domains/g/handler', { type: 'external' }), 201);
    expect(handler).toMatchObject({ type: 'external', codes: ['SUCCESS', 'INVALID'] });
    expect((await lab.get('/domains/g')).body.handler).toEqual(handler);
    await expectRefused(lab, () => lab.post('/domains/g/handler', { type: 'external' }), {
      status: 409,
      code: 'EBUSY',
      reason: 'handler-registered',
    });
  });

  it('a handler is set before attaching: an attached domain is 409 EBUSY (attached)', async () => {
    const lab = await vtdLab('mainline');
    expectStatus(await lab.post('/devices', { id: 'nic0', iommu: 'vtd0', ...PRI_DEVICE }), 201);
    expectStatus(await lab.post('/domains', { id: 'd', iommu: 'vtd0', type: 'dma' }), 201);
    expectStatus(await lab.post('/devices/nic0/attach', { domain: 'd' }), 200);
    await expectRefused(lab, () => lab.post('/domains/d/handler', { type: 'external' }), {
      status: 409,
      code: 'EBUSY',
      reason: 'attached',
    });
  });

  it('refusals: seed-5.13 has no domain handlers (EPROFILE), a handler type the domain cannot have (EINVAL)', async () => {
    const seed = await vtdLab('seed-5.13');
    expectStatus(await seed.post('/domains', { id: 'd', iommu: 'vtd0', type: 'dma' }), 201);
    await expectRefused(seed, () => seed.post('/domains/d/handler', { type: 'external' }), {
      status: 422,
      code: 'EPROFILE',
      profile: 'seed-5.13',
    });
    const mainline = await vtdLab('mainline');
    expectStatus(await mainline.post('/domains', { id: 'id', iommu: 'vtd0', type: 'identity' }), 201);
    await expectRefused(mainline, () => mainline.post('/domains/id/handler', { type: 'external' }), {
      status: 422,
      code: 'EINVAL',
      reason: 'bad-handler',
      profile: 'mainline',
    });
    await expectRefused(mainline, () => mainline.post('/domains/none/handler', { type: 'external' }), {
      status: 404,
      code: 'ENOENT',
    });
  });

  it('proposal: a nested domain’s guest handler maps stage-1 faults into its region', async () => {
    const lab = await vtdLab('proposal');
    expectStatus(await lab.post('/domains', { id: 's2', iommu: 'vtd0', type: 'dma', nestParent: true }), 201);
    expectStatus(await lab.post('/domains', { id: 'g', iommu: 'vtd0', type: 'nested', parent: 's2' }), 201);
    await expectRefused(
      lab,
      () => lab.post('/domains/g/handler', { type: 'guest', region: { iova: '0x0', size: MiB } }),
      {
        status: 422,
        code: 'EINVAL',
        reason: 'no-phys',
      },
    );
    const handler = expectStatus(
      await lab.post('/domains/g/handler', {
        type: 'guest',
        region: { iova: '0x0', size: MiB, phys: '0x40000000' },
      }),
      201,
    );
    expect(handler.type).toBe('guest');
    expect((await lab.get('/domains/g')).body.handler).toEqual(handler);
  });
});
