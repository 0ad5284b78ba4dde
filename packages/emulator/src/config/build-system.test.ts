import { describe, expect, it } from 'vitest';
import { EmulatorError } from '../errors';
import { buildSystem } from './build-system';
import type { SystemConfig } from './system-config';

const CONFIG: SystemConfig = {
  version: 1,
  options: { seed: 9, memoryFrames: 65536, latency: { walkAccessNs: 120 } },
  iommus: [
    { id: 'vtd0', family: 'vtd', profile: 'seed-5.13' },
    {
      id: 'smmu0',
      family: 'smmuv3',
      profile: 'mainline',
      capabilities: { iotlb: { entries: 256, ways: 4, replacement: 'fifo' } },
    },
  ],
  devices: [
    { id: 'nic0', iommu: 'vtd0', rid: '03:00.0', ats: true, pri: { capacity: 16 }, pasidBits: 20 },
    { id: 'acc0', iommu: 'smmu0', kind: 'platform', rid: 7, stall: true, pasidBits: 8 },
  ],
  processes: [
    {
      id: 'app',
      vmas: [{ address: '0x7f0000000000', size: '0x100000', prot: 'rw' }],
      resident: [{ address: '0x7f0000000000', size: 0x4000 }],
    },
  ],
  domains: [
    { id: 'dma0', iommu: 'vtd0', type: 'dma' },
    { id: 'ident', iommu: 'smmu0', type: 'identity' },
    { id: 'parent', iommu: 'vtd0', type: 'dma', nestParent: true },
    { id: 'guest', iommu: 'vtd0', type: 'nested', parent: 'parent' },
  ],
  mappings: [
    { domain: 'dma0', iova: '0x100000', size: '0x200000', prot: 'rw' },
    { domain: 'parent', iova: '0x0', size: 0x10000, prot: 'rw' },
    { domain: 'guest', iova: '0x4000', size: 0x1000, phys: '0x2000', prot: 'r' },
  ],
  features: [
    { device: 'nic0', feature: 'IOPF' },
    { device: 'nic0', feature: 'SVA' },
  ],
  attachments: [
    { device: 'nic0', domain: 'dma0' },
    { device: 'acc0', domain: 'ident' },
  ],
  bindings: [{ device: 'nic0', process: 'app' }],
};

function refusal(config: unknown): EmulatorError {
  try {
    buildSystem(config);
  } catch (error) {
    if (error instanceof EmulatorError) return error;
    throw error;
  }
  throw new Error('expected the config to be refused');
}

describe('declarative system config', () => {
  it('builds everything it describes', () => {
    const system = buildSystem(CONFIG);
    const picture = system.describe();
    expect(picture.seed).toBe(9);
    expect(
      picture.iommus.map((iommu) => [iommu.id, iommu.family, iommu.profile, iommu.iotlb.replacement]),
    ).toEqual([
      ['vtd0', 'vtd', 'seed-5.13', 'lru'],
      ['smmu0', 'smmuv3', 'mainline', 'fifo'],
    ]);
    expect(picture.devices.map((device) => [device.id, device.rid, device.domain, device.features])).toEqual([
      ['nic0', '03:00.0', 'dma0', ['IOPF', 'SVA']],
      ['acc0', 'sid:7', 'ident', []],
    ]);
    expect(picture.devices[0]!.bonds).toEqual([{ process: 'app', pasid: 1, refs: 1 }]);
    expect(picture.processes[0]).toMatchObject({ residentPages: 4, pasid: 1 });
    expect(picture.domains.find((d) => d.id === 'dma0')!.mappedBytes).toBe(0x200000);
    // Stage 2 of stage 1: the guest's 0x4010 → guest physical 0x2010 → the host frame behind it.
    expect(system.iovaToPhys('guest', '0x4010').phys).toBe(system.iovaToPhys('parent', '0x2010').phys);
    expect(system.env.latency.walkAccessNs).toBe(120);
  });

  it('builds the same system from the same config, also after a JSON round trip', () => {
    const again = JSON.parse(JSON.stringify(CONFIG)) as unknown;
    expect(JSON.stringify(buildSystem(again).describe())).toBe(
      JSON.stringify(buildSystem(CONFIG).describe()),
    );
  });

  it('refuses a wrong version, unknown fields and malformed values with ECONFIG and a path', () => {
    expect(refusal({ ...CONFIG, version: 2 })).toMatchObject({ code: 'ECONFIG', path: '/version' });
    expect(refusal({ ...CONFIG, colour: 'red' })).toMatchObject({ code: 'ECONFIG', path: '/' });
    expect(
      refusal({ ...CONFIG, mappings: [{ domain: 'dma0', iova: '4096', size: 4096, prot: 'rw' }] }),
    ).toMatchObject({ code: 'ECONFIG', path: '/mappings/0/iova' });
    expect(
      refusal({ ...CONFIG, iommus: [{ id: 'x', family: 'amd', profile: 'mainline' }] }).message,
    ).toContain('must be one of "vtd", "smmuv3"');
  });

  it('refuses references to things that do not exist, naming the item and the kernel code', () => {
    const error = refusal({ ...CONFIG, devices: [{ id: 'nic0', iommu: 'iommu9' }] });
    expect(error).toMatchObject({ code: 'ECONFIG', path: '/devices/0', reason: 'ENOENT' });
    expect(error.message).toContain('iommu9');
  });

  it('refuses a config that breaks a kernel rule, e.g. SVA before IOPF', () => {
    const features = [
      { device: 'nic0', feature: 'SVA' },
      { device: 'nic0', feature: 'IOPF' },
    ];
    expect(refusal({ ...CONFIG, features })).toMatchObject({
      code: 'ECONFIG',
      path: '/features/0',
      reason: 'EINVAL',
    });
  });

  it('registers fault handlers on devices and domains, refusing one that names neither', () => {
    const system = buildSystem({
      version: 1,
      iommus: [{ id: 'vtd0', family: 'vtd', profile: 'proposal' }],
      devices: [{ id: 'vf0', iommu: 'vtd0', ats: true, pri: { capacity: 8 } }],
      domains: [{ id: 'vm', iommu: 'vtd0', type: 'dma' }],
      handlers: [
        {
          device: 'vf0',
          handler: { type: 'map', region: { iova: '0x0', size: 0x100000 }, pinBudgetPages: 16 },
        },
      ],
    });
    expect(system.describe().devices[0]!.handlers).toEqual([
      { slot: 'MAP', handler: expect.objectContaining({ type: 'map', pinBudgetPages: 16 }) },
    ]);
    expect(
      refusal({
        version: 1,
        iommus: [{ id: 'v', family: 'vtd', profile: 'proposal' }],
        handlers: [{ handler: { type: 'external' } }],
      }),
    ).toMatchObject({
      code: 'ECONFIG',
      path: '/handlers/0',
    });
  });
});
