import { describe, expect, it } from 'vitest';
import { buildSystem } from '../config/build-system';
import { PRESETS } from '../presets/presets';
import { System } from '../system';
import { checkWorkload } from './check-workload';

const stream = { pattern: 'sequential', base: '0x0', workingSet: 0x10000, count: 10 } as const;

function system(): System {
  const s = new System();
  s.addIommu({ id: 'vtd', family: 'vtd', profile: 'seed-5.13' });
  s.addDevice({ id: 'nic', iommu: 'vtd', ats: true, pri: { capacity: 8 }, pasidBits: 8 });
  s.enableFeature('nic', 'IOPF');
  s.enableFeature('nic', 'SVA');
  s.createProcess({ id: 'app' });
  s.svaBind('nic', 'app');
  return s;
}

describe('checkWorkload', () => {
  it("passes every preset's workload on its own system", () => {
    for (const preset of PRESETS)
      expect(() => checkWorkload(buildSystem(preset.config), preset.workload)).not.toThrow();
  });

  it('refuses a device the system lacks, with the path of the field', () => {
    expect(() =>
      checkWorkload(system(), {
        streams: [
          { ...stream, device: 'nic' },
          { ...stream, device: 'gpu' },
        ],
      }),
    ).toThrow(
      expect.objectContaining({ code: 'ENOENT', path: '/streams/1/device', reason: 'no-such-device' }),
    );
  });

  it('refuses a PASID that no attachment or binding gives the device', () => {
    const s = system();
    expect(() => checkWorkload(s, { streams: [{ ...stream, device: 'nic', pasid: 1 }] })).not.toThrow();
    expect(() => checkWorkload(s, { streams: [{ ...stream, device: 'nic', pasid: 2 }] })).toThrow(
      expect.objectContaining({ code: 'EINVAL', path: '/streams/0/pasid', reason: 'no-such-pasid' }),
    );
  });

  it('refuses a working set past the top of the address space, naming its stream', () => {
    const high = { ...stream, device: 'nic', base: '0xfffffffffffff000', workingSet: 0x2000 };
    expect(() => checkWorkload(system(), { streams: [{ ...stream, device: 'nic' }, high] })).toThrow(
      expect.objectContaining({
        code: 'ERANGE',
        path: '/streams/1',
        message: expect.stringContaining('stream 1'),
      }),
    );
  });

  it('schedules nothing', () => {
    const s = system();
    checkWorkload(s, { streams: [{ ...stream, device: 'nic' }] });
    expect(s.pendingEvents).toBe(0);
  });
});
