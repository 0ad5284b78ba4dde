import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EmulatorError } from '../errors';
import { System } from '../system';

/** A small system under seed-5.13 with a bit of everything in it. */
function build(): System {
  const system = new System({ seed: 3, memoryFrames: 2048 });
  system.addIommu({ id: 'vtd', family: 'vtd', profile: 'seed-5.13' });
  system.addIommu({ id: 'smmu', family: 'smmuv3', profile: 'mainline' });
  system.addDevice({ id: 'nic', iommu: 'vtd', ats: true, pri: { capacity: 8 }, pasidBits: 8 });
  system.addDevice({ id: 'acc', iommu: 'smmu', kind: 'platform', stall: true, pasidBits: 4 });
  system.createDomain({ id: 'a', iommu: 'vtd', type: 'dma' });
  system.createDomain({ id: 's2', iommu: 'vtd', type: 'dma', nestParent: true });
  system.createDomain({ id: 'n', iommu: 'vtd', type: 'nested', parent: 's2' });
  system.map('a', { iova: '0x10000', size: 0x4000, prot: 'rw' });
  system.attach('nic', 'a');
  system.createProcess({ id: 'app' });
  system.mmap('app', { address: '0x7f0000000000', size: 0x10000, prot: 'rw' });
  return system;
}

/** Calls that are often wrong: bad ids, misaligned or overlapping ranges, bad PASIDs, wrong order, wrong profile. */
const call = fc.oneof(
  fc.record({
    kind: fc.constant('map'),
    domain: fc.constantFrom('a', 'n', 's2', 'ghost'),
    iova: fc.constantFrom('0x10000', '0x11000', '0x13001', '0x20000', 'zz'),
    size: fc.constantFrom(0x1000, 0x2000, 0x1001, 0),
    prot: fc.constantFrom('rw', 'r', 'x', 'rq'),
  }),
  fc.record({
    kind: fc.constant('unmap'),
    domain: fc.constantFrom('a', 'ghost'),
    iova: fc.constantFrom('0x10000', '0x12000', '0x30000'),
    size: fc.constantFrom(0x1000, 0x8000),
  }),
  fc.record({
    kind: fc.constant('attach'),
    device: fc.constantFrom('nic', 'acc', 'ghost'),
    domain: fc.constantFrom('a', 'n', 's2'),
    pasid: fc.constantFrom(undefined, 0, 1, 300),
  }),
  fc.record({
    kind: fc.constant('feature'),
    device: fc.constantFrom('nic', 'acc'),
    feature: fc.constantFrom('IOPF', 'SVA', 'AUX', 'NOPE'),
    enable: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('bind'), device: fc.constantFrom('nic', 'acc'), unbind: fc.boolean() }),
  fc.record({
    kind: fc.constant('process'),
    action: fc.constantFrom('mmap', 'mprotect', 'exit', 'reclaim'),
    address: fc.constantFrom('0x7f0000000000', '0x7f0000004000', '0x7f0000100000', '0x1'),
    size: fc.constantFrom(0x1000, 0x20000),
  }),
  fc.record({
    kind: fc.constant('domain'),
    type: fc.constantFrom('dma', 'nested', 'identity'),
    parent: fc.constantFrom(undefined, 'a', 's2', 'ghost'),
    destroy: fc.constantFrom(undefined, 'a', 'n', 's2'),
  }),
  fc.record({
    kind: fc.constant('handler'),
    device: fc.constantFrom('nic', 'acc'),
    type: fc.constantFrom('external', 'map'),
  }),
);

type Call = typeof call extends fc.Arbitrary<infer T> ? T : never;

function perform(system: System, c: Call): void {
  switch (c.kind) {
    case 'map':
      system.map(c.domain, {
        iova: c.iova,
        size: c.size,
        prot: c.prot,
        ...(c.domain === 'n' ? { phys: '0x0' } : {}),
      });
      break;
    case 'unmap':
      system.unmap(c.domain, c.iova, c.size);
      break;
    case 'attach':
      system.attach(c.device, c.domain, c.pasid === undefined ? {} : { pasid: c.pasid });
      break;
    case 'feature':
      if (c.enable) system.enableFeature(c.device, c.feature as never);
      else system.disableFeature(c.device, c.feature as never);
      break;
    case 'bind':
      if (c.unbind) system.svaUnbind(c.device, 'app');
      else system.svaBind(c.device, 'app');
      break;
    case 'process':
      if (c.action === 'mmap') system.mmap('app', { address: c.address, size: c.size, prot: 'rw' });
      else if (c.action === 'mprotect') system.mprotect('app', c.address, c.size, 'r');
      else if (c.action === 'reclaim') system.reclaim('app', c.address, c.size);
      else system.exitProcess('app');
      break;
    case 'domain':
      if (c.destroy) system.destroyDomain(c.destroy);
      else
        system.createDomain({
          iommu: 'vtd',
          type: c.type as 'dma',
          ...(c.parent ? { parent: c.parent } : {}),
        });
      break;
    case 'handler':
      system.registerFaultHandler(
        c.device,
        c.type === 'map'
          ? { type: 'map', region: { iova: '0x0', size: 0x1000 }, pinBudgetPages: 1 }
          : { type: 'external' },
      );
      break;
  }
}

const picture = (system: System) =>
  JSON.stringify([system.describe(), system.metrics(), system.pendingEvents]);

describe('property: a refused call changes nothing', () => {
  it('after every call that throws, describe(), metrics() and the pending events are as before, and no event was emitted', () => {
    let refused = 0;
    let calls = 0;
    fc.assert(
      fc.property(fc.array(call, { minLength: 10, maxLength: 60 }), (calls_) => {
        const system = build();
        let emitted = 0;
        system.onAny(() => emitted++);
        for (const c of calls_) {
          calls++;
          const before = picture(system);
          const eventsBefore = emitted;
          try {
            perform(system, c);
          } catch (error) {
            expect(error).toBeInstanceOf(EmulatorError);
            expect((error as EmulatorError).message.length).toBeGreaterThan(10);
            expect(picture(system)).toBe(before);
            expect(emitted).toBe(eventsBefore);
            refused++;
          }
        }
      }),
      { numRuns: 250 },
    );
    expect(calls).toBeGreaterThan(3000);
    expect(refused).toBeGreaterThan(1000);
  });
});
