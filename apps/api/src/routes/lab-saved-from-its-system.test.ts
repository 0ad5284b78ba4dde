/**
 * Saving a lab reads its topology from the emulated system, so every call that changed the topology is in
 * the saved experiment, whatever route made it: built by REST, saved, rebuilt in a new lab from the saved
 * config, the two labs show the same topology, and the experiment runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type Running, call, startServer, wsUrl } from '../testing/harness';
import { API, type Body, expectStatus, labClient } from '../testing/lab-client';

/** What GET /labs/:lab shows of the topology: no counters, caches, residency or time. */
function topology(system: Body) {
  const handler = (info: Body) =>
    info && {
      type: info.type,
      categories: info.categories,
      timeoutNs: info.timeoutNs,
      region: info.region,
      pinBudgetPages: info.pinBudgetPages,
    };
  return {
    iommus: system.iommus.map((i: Body) => ({
      ...{ id: i.id, family: i.family, profile: i.profile, capabilities: i.capabilities },
      ...{ devices: i.devices, faultCategories: i.faultCategories },
    })),
    devices: system.devices.map((d: Body) => ({
      ...{ id: d.id, iommu: d.iommu, kind: d.kind, rid: d.rid, capabilities: d.capabilities },
      ...{ features: d.features, iopf: { enabled: d.iopf.enabled, users: d.iopf.users } },
      handlers: d.handlers.map((h: Body) => ({ slot: h.slot, handler: handler(h.handler) })),
      ...{ domain: d.domain, pasids: d.pasids, bonds: d.bonds },
    })),
    // By id: a rebuild makes SVA domains at bind time, after the others.
    domains: [...system.domains]
      .sort((a: Body, b: Body) => a.id.localeCompare(b.id))
      .map((d: Body) => ({
        ...{ id: d.id, iommu: d.iommu, type: d.type, stage: d.stage, nestParent: d.nestParent },
        ...{ parent: d.parent, process: d.process, mappedBytes: d.mappedBytes, handler: handler(d.handler) },
        attachments: d.attachments.map((a: Body) => `${a.device}:${a.pasid}`).sort(),
      })),
    processes: system.processes.map((p: Body) => ({ id: p.id, pasid: p.pasid, vmas: p.vmas })),
  };
}

describe('saving a lab', () => {
  let server: Running;
  const api = (method: string, path: string, body?: unknown) =>
    call(server.url, method, `${API}${path}`, body);

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it("keeps the effect of every topology route: rebuilt from the saved config, a new lab has the lab's topology, and the experiment runs", async () => {
    const lab = labClient(server.url, expectStatus(await api('POST', '/labs', { name: 'by hand' }), 201).id);
    const ok = async (response: Promise<{ status: number; body: Body }>) => {
      const answer = await response;
      expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);
      return answer.body;
    };
    // IOMMUs, one per kernel profile; devices behind them.
    await ok(lab.post('/iommus', { id: 'vtd0', family: 'vtd', profile: 'seed-5.13' }));
    await ok(
      lab.post('/iommus', {
        id: 'prop0',
        family: 'vtd',
        profile: 'proposal',
        capabilities: { nesting: true },
      }),
    );
    await ok(lab.post('/iommus', { id: 'smmu0', family: 'smmuv3', profile: 'mainline' }));
    await ok(
      lab.post('/devices', { id: 'nic0', iommu: 'vtd0', ats: true, pri: { capacity: 16 }, pasidBits: 20 }),
    );
    await ok(
      lab.post('/devices', { id: 'vf0', iommu: 'prop0', ats: true, pri: { capacity: 32 }, pasidBits: 8 }),
    );
    await ok(lab.post('/devices', { id: 'vf1', iommu: 'prop0', ats: true, pri: { capacity: 8 } }));
    await ok(
      lab.post('/devices', { id: 'acc0', iommu: 'smmu0', kind: 'platform', stall: true, pasidBits: 4 }),
    );
    // Features on and off.
    for (const path of [
      '/devices/nic0/features/IOPF',
      '/devices/nic0/features/SVA',
      '/devices/nic0/features/AUX',
    ])
      await ok(lab.put(path));
    await ok(lab.del('/devices/nic0/features/AUX'));
    await ok(lab.put('/devices/vf0/features/IOPF'));
    await ok(lab.put('/devices/vf0/features/SVA'));
    // A process whose VMA a munmap splits and an mprotect changes in part.
    await ok(lab.post('/processes', { id: 'app' }));
    await ok(lab.post('/processes/app/mmap', { address: '0x7f0000000000', size: '0x400000', prot: 'rw' }));
    await ok(lab.post('/processes/app/munmap', { address: '0x7f0000100000', size: 4096 }));
    await ok(lab.post('/processes/app/mprotect', { address: '0x7f0000000000', size: 4096, prot: 'r' }));
    // Bonds: one kept, one made and undone.
    expect((await ok(lab.post('/devices/nic0/bind', { process: 'app' }))).pasid).toBe(1);
    await ok(lab.post('/devices/vf0/bind', { process: 'app' }));
    await ok(lab.post('/devices/vf0/unbind', { process: 'app' }));
    // Domains: one created and destroyed, a DMA domain whose unmap splits a mapping, a nested pair.
    await ok(lab.post('/domains', { id: 'scratch', iommu: 'prop0', type: 'dma' }));
    await ok(lab.del('/domains/scratch'));
    await ok(lab.post('/domains', { id: 'vm', iommu: 'prop0', type: 'dma' }));
    await ok(lab.post('/domains/vm/mappings', { iova: '0x0', size: '0x200000', prot: 'rw' }));
    await ok(lab.post('/domains/vm/mappings', { iova: '0x400000', size: '0x4000', prot: 'r' }));
    await ok(lab.post('/domains/vm/unmap', { iova: '0x401000', size: 4096 }));
    await ok(lab.post('/domains', { id: 's2', iommu: 'prop0', type: 'dma', nestParent: true }));
    await ok(lab.post('/domains', { id: 'guest', iommu: 'prop0', type: 'nested', parent: 's2' }));
    await ok(lab.post('/domains/s2/mappings', { iova: '0x0', size: '0x100000', prot: 'rw' }));
    await ok(lab.post('/domains/guest/mappings', { iova: '0x10000', size: 4096, phys: '0x2000', prot: 'r' }));
    await ok(lab.post('/domains', { id: 'iofd', iommu: 'smmu0', type: 'dma' }));
    await ok(lab.post('/domains', { id: 'tmp', iommu: 'vtd0', type: 'dma' }));
    // Fault handlers: one registered and removed, then the one kept; domains' own handlers.
    await ok(lab.post('/devices/vf0/handlers', { type: 'external', categories: ['MAP'] }));
    await ok(lab.del('/devices/vf0/handlers/MAP'));
    await ok(
      lab.post('/devices/vf0/handlers', {
        type: 'map',
        region: { iova: '0x800000', size: '0x100000' },
        pinBudgetPages: 16,
      }),
    );
    await ok(
      lab.post('/domains/guest/handler', {
        type: 'guest',
        region: { iova: '0x100000', size: '0x10000', phys: '0x20000' },
      }),
    );
    await ok(lab.post('/domains/iofd/handler', { type: 'external', timeoutNs: 50000 }));
    // Attachments: kept ones, and one made and undone.
    await ok(lab.post('/devices/vf0/attach', { domain: 'vm' }));
    await ok(lab.post('/devices/vf1/attach', { domain: 'guest' }));
    await ok(lab.post('/devices/acc0/attach', { domain: 'iofd' }));
    await ok(lab.post('/devices/nic0/attach', { domain: 'tmp' }));
    await ok(lab.post('/devices/nic0/detach', {}));

    const workload = {
      streams: [
        {
          device: 'nic0',
          pasid: 1,
          pattern: 'sequential',
          base: '0x7f0000002000',
          workingSet: '0x10000',
          count: 20,
        },
        { device: 'vf0', pattern: 'random', base: '0x800000', workingSet: '0x40000', count: 20 },
      ],
    };
    const saved = expectStatus(await lab.post('/experiment', { name: 'by hand', workload, seed: 3 }), 201);
    expect(saved.omitted).toEqual([]);
    const system = saved.config.system;
    expect(system.processes[0].vmas).toEqual([
      { address: '0x7f0000000000', size: '0x1000', prot: 'r' },
      { address: '0x7f0000001000', size: '0xff000', prot: 'rw' },
      { address: '0x7f0000101000', size: '0x2ff000', prot: 'rw' },
    ]);
    expect(system.features).toEqual([
      { device: 'nic0', feature: 'IOPF' },
      { device: 'nic0', feature: 'SVA' },
      { device: 'vf0', feature: 'IOPF' },
      { device: 'vf0', feature: 'SVA' },
    ]);
    expect(system.mappings.filter((m: Body) => m.domain === 'vm').map((m: Body) => [m.iova, m.size])).toEqual(
      [
        ['0x0', '0x200000'],
        ['0x400000', '0x1000'],
        ['0x402000', '0x2000'],
      ],
    );
    expect(system.bindings).toEqual([{ device: 'nic0', process: 'app' }]);
    expect(system.domains.map((d: Body) => d.id)).toEqual(['tmp', 'vm', 's2', 'guest', 'iofd']);

    const rebuilt = labClient(
      server.url,
      expectStatus(await api('POST', '/labs', { config: system }), 201).id,
    );
    const [original, copy] = await Promise.all([lab.get(''), rebuilt.get('')]);
    expect(topology(copy.body.system)).toEqual(topology(original.body.system));

    const run = expectStatus(await api('POST', `/experiments/${saved.id}/runs`, {}), 202);
    await new Promise((resolve, reject) => {
      const socket = new WebSocket(wsUrl(server.url, `${API}/runs/${run.id}/stream`));
      socket.on('close', resolve);
      socket.on('error', reject);
    });
    expect((await api('GET', `/runs/${run.id}`)).body).toMatchObject({
      status: 'done',
      seed: 3,
      transactions: 40,
    });
  });

  it('says what the config cannot hold, from the state: residency, pages mapped on demand, caches', async () => {
    const lab = labClient(
      server.url,
      expectStatus(await api('POST', '/labs', { preset: 'passthrough-map' }), 201).id,
    );
    const before = expectStatus(await lab.post('/experiment', { name: 'fresh' }), 201);
    expect(before.omitted).toEqual([]);
    const { workload } = before.config;
    expectStatus(
      await lab.post('/workloads', { workload: { streams: [{ ...workload.streams[0], count: 50 }] } }),
      200,
    );
    const after = expectStatus(await lab.post('/experiment', { name: 'after a workload' }), 201);
    expect(after.omitted).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/page\(s\) its fault handler mapped on demand start unmapped/),
        expect.stringMatching(/^cache contents: /),
      ]),
    );
    // What was mapped on demand is not in the saved topology: the run meets the same faults again.
    expect(after.config.system.mappings).toEqual(before.config.system.mappings);
  });
});
