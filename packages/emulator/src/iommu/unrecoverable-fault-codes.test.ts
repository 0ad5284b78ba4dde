import { describe, expect, it } from 'vitest';
import type { FaultRecord } from './fault-record';
import type { KernelProfileName } from '../profile/kernel-profile';
import { capture, systemWith } from '../testing/fixtures';

/**
 * A system where each fault kind is one DMA away. The device has PASID but neither PRI nor stall, so every
 * failed translation is an unrecoverable fault.
 */
function setup(family: 'vtd' | 'smmuv3', profile: KernelProfileName = 'mainline', dmaStage?: 1 | 2) {
  const kind = family === 'smmuv3' ? 'platform' : 'pci';
  const s = systemWith(family, profile, [
    { id: 'dev', kind, pasidBits: 8 },
    { id: 'nopasid', kind },
  ]);
  s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma', ...(dmaStage ? { stage: dmaStage } : {}) });
  s.map('d', { iova: '0x1000', size: 0x1000, prot: 'r' });
  s.map('d', { iova: '0x2000', size: 0x1000, prot: 'w' });
  s.map('d', { iova: '0x3000', size: 0x1000, prot: 'rwp' });
  s.map('d', { iova: '0x4000', size: 0x1000, prot: 'rw' });
  s.attach('dev', 'd');
  s.createDomain({ id: 'p', iommu: 'iommu0', type: 'dma' });
  if (profile === 'mainline') s.attach('dev', 'p', { pasid: 2 });
  return s;
}

function fault(
  s: ReturnType<typeof setup>,
  spec: {
    device?: string;
    pasid?: number;
    address: string;
    access: 'read' | 'write' | 'exec';
    privileged?: boolean;
  },
): FaultRecord {
  const records = capture(s, 'fault.unrecoverable');
  s.dma({ device: spec.device ?? 'dev', length: 4, ...spec });
  s.runUntilIdle();
  expect(records).toHaveLength(1);
  return records[0]!;
}

describe("unrecoverable faults carry each family's reason code (reference §6, §7)", () => {
  it('VT-d scalable mode: fault reasons', () => {
    const s = setup('vtd', 'mainline', 2);
    expect(fault(s, { address: '0x9000', access: 'read' })).toMatchObject({
      fault: 'translation',
      stage: 2,
      code: 0x79,
    });
    expect(fault(s, { address: '0x1000', access: 'write' })).toMatchObject({
      fault: 'permission-write',
      code: 0x85,
      codeName: 'SM: No write permission for Write/AtomicOp request',
    });
    expect(fault(s, { address: '0x2000', access: 'read' })).toMatchObject({
      fault: 'permission-read',
      code: 0x86,
    });
    expect(fault(s, { address: '0x4000', access: 'exec' })).toMatchObject({
      fault: 'permission-exec',
      code: 0x82,
    });
    expect(fault(s, { address: '0x3000', access: 'read' })).toMatchObject({
      fault: 'permission-privilege',
      code: 0x81,
    });
    expect(fault(s, { address: '0x1000000000000', access: 'read' })).toMatchObject({
      fault: 'address-size',
      code: 0x83,
    });
    expect(fault(s, { device: 'nopasid', pasid: 1, address: '0x1000', access: 'read' })).toMatchObject({
      fault: 'pasid-disabled',
      code: 0x45,
    });
    expect(fault(s, { pasid: 300, address: '0x1000', access: 'read' })).toMatchObject({
      fault: 'pasid-out-of-range',
      code: 0x46,
    });
    expect(fault(s, { pasid: 5, address: '0x1000', access: 'read' })).toMatchObject({
      fault: 'pasid-not-attached',
      code: 0x59,
    });
    expect(fault(s, { device: 'nopasid', address: '0x1000', access: 'read' })).toMatchObject({
      fault: 'blocked',
      code: 0x59,
      recorded: true,
    });
  });

  it('VT-d: a first-level table reports 0x71 where a second-level one reports 0x79', () => {
    expect(fault(setup('vtd', 'mainline', 1), { address: '0x9000', access: 'read' })).toMatchObject({
      stage: 1,
      code: 0x71,
    });
  });

  it('SMMUv3: event IDs, and an abort STE that records nothing', () => {
    const s = setup('smmuv3');
    expect(fault(s, { address: '0x9000', access: 'read' })).toMatchObject({
      fault: 'translation',
      code: 0x10,
      codeName: 'F_TRANSLATION',
    });
    expect(fault(s, { address: '0x1000', access: 'write' })).toMatchObject({
      code: 0x13,
      codeName: 'F_PERMISSION',
    });
    expect(fault(s, { address: '0x1000000000000', access: 'read' })).toMatchObject({
      code: 0x11,
      codeName: 'F_ADDR_SIZE',
    });
    expect(fault(s, { device: 'nopasid', pasid: 1, address: '0x1000', access: 'read' })).toMatchObject({
      code: 0x08,
      codeName: 'C_BAD_SUBSTREAMID',
    });
    expect(fault(s, { pasid: 300, address: '0x1000', access: 'read' })).toMatchObject({ code: 0x08 });
    expect(fault(s, { pasid: 5, address: '0x1000', access: 'read' })).toMatchObject({
      code: 0x0a,
      codeName: 'C_BAD_CD',
    });
    expect(fault(s, { device: 'nopasid', address: '0x1000', access: 'read' })).toMatchObject({
      fault: 'blocked',
      recorded: false,
    });
  });

  it('profiles that still report unrecoverable faults add IOMMU_FAULT_REASON_*; mainline does not', () => {
    expect(fault(setup('smmuv3', 'seed-5.13'), { address: '0x9000', access: 'read' }).linuxReason).toBe(
      'IOMMU_FAULT_REASON_PTE_FETCH',
    );
    expect(fault(setup('smmuv3', 'proposal'), { address: '0x1000', access: 'write' }).linuxReason).toBe(
      'IOMMU_FAULT_REASON_PERMISSION',
    );
    expect(fault(setup('smmuv3', 'mainline'), { address: '0x9000', access: 'read' }).linuxReason).toBeNull();
  });

  it('keeps recent faults on the IOMMU and counts them by kind and by reason name', () => {
    const s = setup('vtd', 'mainline', 2);
    fault(s, { address: '0x9000', access: 'read' });
    fault(s, { address: '0x9000', access: 'write' });
    fault(s, { address: '0x1000', access: 'write' });
    expect(s.iommu('iommu0').recentFaults.map((record) => record.address)).toEqual([
      '0x9000',
      '0x9000',
      '0x1000',
    ]);
    const scope = s.metrics().devices.dev!;
    expect(scope.faultsByKind).toEqual({ translation: 2, 'permission-write': 1 });
    expect(scope.faultsByReason['SM: No write permission for Write/AtomicOp request']).toBe(1);
    expect(scope.transactions.faulted).toBe(3);
  });
});
