import { describe, expect, it } from 'vitest';
import type { EventKind } from '../sim/events';
import { System } from '../system';

/** A device on a DMA domain with one page mapped at 0x100000: a read there completes, one at 0x900000 faults. */
function lab(): System {
  const system = new System({ seed: 1, memoryFrames: 4096 });
  system.addIommu({ id: 'vtd0', family: 'vtd', profile: 'mainline' });
  system.addDevice({ id: 'nic0', iommu: 'vtd0' });
  system.createDomain({ id: 'dma0', iommu: 'vtd0', type: 'dma' });
  system.map('dma0', { iova: '0x100000', size: 4096, prot: 'rw' });
  system.attach('nic0', 'dma0');
  return system;
}

/** Events stamped while one completed and one faulted transaction ran, with a listener on `kind` only. */
function stampedWith(kind: EventKind): { stamped: number; heard: object[] } {
  const system = lab();
  const heard: object[] = [];
  system.on(kind, (event) => heard.push(event));
  const before = system.env.bus.emitted;
  system.dma({ device: 'nic0', address: '0x100000', length: 64, access: 'read' });
  system.dma({ device: 'nic0', address: '0x900000', length: 64, access: 'read' });
  system.runUntilIdle();
  return { stamped: system.env.bus.emitted - before, heard };
}

describe("a transaction's end event (dma.completed, dma.faulted)", () => {
  it('is built only when someone listens to its kind', () => {
    const neither = stampedWith('pasid.allocated').stamped;
    expect(stampedWith('dma.completed').stamped).toBe(neither + 1);
    expect(stampedWith('dma.faulted').stamped).toBe(neither + 1);
  });

  it('says what it said before, in the same order: the shared fields, then a fault’s own', () => {
    const [completed] = stampedWith('dma.completed').heard;
    const [faulted] = stampedWith('dma.faulted').heard;
    const shared = ['kind', 'transaction', 'device', 'pasid', 'address', 'length', 'access', 'privileged'];
    const tail = ['latencyNs', 'recoveries', 'flows'];
    expect(Object.keys(completed!)).toEqual([...shared, ...tail, 'seq', 'timeNs']);
    expect(Object.keys(faulted!)).toEqual([
      ...shared,
      ...tail,
      'bytesDone',
      'error',
      'fault',
      'faultAddress',
      'seq',
      'timeNs',
    ]);
    expect(faulted).toMatchObject({
      kind: 'dma.faulted',
      transaction: 2,
      address: '0x900000',
      flows: [1], // an unrecoverable fault is a flow too
      bytesDone: 0,
      error: 'unrecoverable',
      faultAddress: '0x900000',
    });
  });
});
