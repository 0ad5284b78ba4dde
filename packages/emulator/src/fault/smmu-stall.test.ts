import { describe, expect, it } from 'vitest';
import { USER_BASE, bindProcess, capture, stepUntil, systemWith } from '../testing/fixtures';

describe('SMMUv3 stall (reference §6, §10.2)', () => {
  it('holds the faulting transaction, records an event with a stall tag, and RETRY resumes it', () => {
    const s = systemWith('smmuv3', 'mainline', [{ id: 'acc', kind: 'platform', stall: true, pasidBits: 8 }]);
    const { pasid } = bindProcess(s, 'acc');
    const stalled = capture(s, 'stall.stalled');
    const resumes = capture(s, 'stall.resume');
    const groups = capture(s, 'fault.group');
    const tx = s.dma({ device: 'acc', pasid, address: USER_BASE, length: 2 * 4096, access: 'write' });
    s.runUntilIdle();
    expect(tx.state).toBe('completed');
    expect(stalled.map((e) => [e.address, e.event, e.stage])).toEqual([
      ['0x7f0000000000', 'F_TRANSLATION', 1],
      ['0x7f0000001000', 'F_TRANSLATION', 1],
    ]);
    expect(stalled[0]!.stag).not.toBe(stalled[1]!.stag);
    expect(groups.map((g) => [g.transport, g.grpid, g.faults])).toEqual([
      ['stall', stalled[0]!.stag, 1],
      ['stall', stalled[1]!.stag, 1],
    ]);
    expect(resumes.map((r) => r.action)).toEqual(['RETRY', 'RETRY']);
  });

  it('ABORT ends the stalled transaction with an error', () => {
    const s = systemWith('smmuv3', 'mainline', [{ id: 'acc', kind: 'platform', stall: true, pasidBits: 8 }]);
    const { pasid } = bindProcess(s, 'acc', 0x1000);
    const resumes = capture(s, 'stall.resume');
    const tx = s.dma({ device: 'acc', pasid, address: USER_BASE + 0x5000, length: 8, access: 'read' }); // outside the VMA
    s.runUntilIdle();
    expect(tx.error).toBe('stall-terminated');
    expect(resumes.map((r) => r.action)).toEqual(['ABORT']);
  });

  it('a master without stall gets terminate and an unrecoverable event', () => {
    const s = systemWith('smmuv3', 'mainline', [{ id: 'plain', kind: 'platform' }]);
    s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
    s.attach('plain', 'd');
    const stalled = capture(s, 'stall.stalled');
    const tx = s.dma({ device: 'plain', address: '0x0', length: 8, access: 'read' });
    s.runUntilIdle();
    expect(stalled).toHaveLength(0);
    expect(tx.fault).toMatchObject({ codeName: 'F_TRANSLATION', recorded: true });
  });

  it('configuration faults never stall (C_BAD_CD is recorded, not stalled)', () => {
    const s = systemWith('smmuv3', 'mainline', [{ id: 'acc', kind: 'platform', stall: true, pasidBits: 8 }]);
    bindProcess(s, 'acc');
    const tx = s.dma({ device: 'acc', pasid: 7, address: USER_BASE, length: 8, access: 'read' });
    s.runUntilIdle();
    expect(tx.fault).toMatchObject({ codeName: 'C_BAD_CD' });
  });

  it('stage-2 faults stall only where the host handles them (STE.S2S): the proposal, not mainline', () => {
    const nestedOn = (profile: 'mainline' | 'proposal') => {
      const s = systemWith('smmuv3', profile, [{ id: 'acc', kind: 'platform', stall: true }]);
      if (profile === 'proposal') {
        s.enableFeature('acc', 'IOPF');
        s.registerFaultHandler('acc', {
          type: 'map',
          region: { iova: '0x0', size: 0x100000 },
          pinBudgetPages: 8,
        });
      }
      s.createDomain({ id: 's2', iommu: 'iommu0', type: 'dma', nestParent: true });
      s.createDomain({ id: 'g', iommu: 'iommu0', type: 'nested', parent: 's2' });
      s.map('g', { iova: '0x1000', size: 0x1000, phys: '0x8000', prot: 'rw' });
      if (profile === 'mainline') s.setDomainFaultHandler('g', { type: 'external' });
      s.attach('acc', 'g');
      const tx = s.dma({ device: 'acc', address: '0x1000', length: 8, access: 'read' });
      s.runUntilIdle();
      return tx;
    };
    expect(nestedOn('mainline').fault).toMatchObject({ stage: 2, codeName: 'F_TRANSLATION' });
    expect(nestedOn('proposal').state).toBe('completed');
  });

  it('a reset terminates stalls the driver has not reported yet (CMD_STALL_TERM)', () => {
    const s = systemWith('smmuv3', 'mainline', [{ id: 'acc', kind: 'platform', stall: true, pasidBits: 8 }]);
    const { pasid } = bindProcess(s, 'acc');
    const tx = s.dma({ device: 'acc', pasid, address: USER_BASE, length: 8, access: 'read' });
    expect(stepUntil(s, () => s.describe().iommus[0]!.stalled === 1)).toBe(true);
    s.resetDevice('acc');
    s.runUntilIdle();
    expect(tx.state).toBe('aborted');
    expect(s.describe().iommus[0]!.stalled).toBe(0);
  });
});
