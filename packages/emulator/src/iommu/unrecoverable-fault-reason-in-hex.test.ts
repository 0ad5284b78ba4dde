/**
 * An unrecoverable fault carries its code as the hardware writes it, in hex: the VT-d fault reason
 * (FRCD.FR, VT-d spec §7.1.3; Linux dmar.c prints "[fault reason 0x79]") or the SMMUv3 event ID
 * (spec §7.3; arm-smmu-v3.h EVT_ID_TRANSLATION_FAULT 0x10). An abort STE records nothing: no reason.
 */
import { describe, expect, it } from 'vitest';
import type { FaultRecord } from './fault-record';
import { System } from '../system';

function faultOf(family: 'vtd' | 'smmuv3', domainType: 'dma' | 'blocked'): FaultRecord {
  const system = new System({ seed: 1 });
  system.addIommu({ id: 'io0', family, profile: 'seed-5.13' });
  system.addDevice({ id: 'dev0', iommu: 'io0' });
  system.createDomain({ id: 'd0', iommu: 'io0', type: domainType });
  system.attach('dev0', 'd0');
  const faults: FaultRecord[] = [];
  system.on('fault.unrecoverable', (fault) => faults.push(fault));
  system.dma({ device: 'dev0', address: '0x900000', length: 64, access: 'read' });
  system.runUntilIdle();
  expect(faults).toHaveLength(1);
  return faults[0]!;
}

describe('unrecoverable faults: the reason code in hex', () => {
  it('VT-d: a second-level miss is fault reason 0x79', () => {
    expect(faultOf('vtd', 'dma')).toMatchObject({
      reason: '0x79',
      codeName: 'SM: Read/Write permission error in second-level paging entry',
    });
  });

  it('SMMUv3: a translation fault is event 0x10 F_TRANSLATION', () => {
    expect(faultOf('smmuv3', 'dma')).toMatchObject({ reason: '0x10', codeName: 'F_TRANSLATION' });
  });

  it('SMMUv3: an abort STE records no event, so no reason', () => {
    expect(faultOf('smmuv3', 'blocked')).toMatchObject({ reason: null, recorded: false });
  });
});
