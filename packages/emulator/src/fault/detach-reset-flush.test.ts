import { describe, expect, it } from 'vitest';
import { PRI_DEVICE, USER_BASE, bindProcess, capture, stepUntil, systemWith } from '../testing/fixtures';

describe('detach and reset answer what is pending (reference §2, §4)', () => {
  it('detaching a domain answers INVALID to its pending groups (iommufd detach auto-response)', () => {
    const s = systemWith('vtd', 'mainline', [{ id: 'vf0', ...PRI_DEVICE }]);
    s.createDomain({ id: 's2', iommu: 'iommu0', type: 'dma', nestParent: true });
    s.createDomain({ id: 'g', iommu: 'iommu0', type: 'nested', parent: 's2' });
    s.setDomainFaultHandler('g', { type: 'external', timeoutNs: 1e9 });
    s.attach('vf0', 'g');
    const responses = capture(s, 'fault.response');
    const tx = s.dma({ device: 'vf0', address: '0x0', length: 8, access: 'read' });
    expect(stepUntil(s, () => s.pendingFaults().length === 1)).toBe(true);
    s.detach('vf0');
    s.runUntilIdle();
    expect(responses[0]).toMatchObject({ code: 'INVALID', cause: 'detach' });
    expect(tx.error).toBe('page-request-invalid');
    expect(s.pendingFaults()).toEqual([]);
  });

  it('an SVA unbind with a group pending answers it INVALID and sends a Stop Marker', () => {
    // Mainline drops the Stop Marker (intel/prq.c); seed-5.13 answers it (vtd-page-request-checks-v5.13).
    const s = systemWith('vtd', 'mainline', [{ id: 'nic0', ...PRI_DEVICE }], {
      latency: { minorFaultNs: 1_000_000 },
    });
    const { pasid } = bindProcess(s, 'nic0');
    const responses = capture(s, 'fault.response');
    const markers = capture(s, 'pri.stop-marker');
    s.dma({ device: 'nic0', pasid, address: USER_BASE, length: 8, access: 'read' });
    expect(stepUntil(s, () => s.metrics().system.faults.groups === 1)).toBe(true);
    s.svaUnbind('nic0', 'app');
    s.runUntilIdle();
    expect(responses.map((r) => r.cause)).toEqual(['detach']);
    expect(markers).toHaveLength(1);
  });

  it('a device reset answers pending groups without sending the answers to the device, and restores its credit', () => {
    const s = systemWith('vtd', 'proposal', [{ id: 'nic0', ...PRI_DEVICE, pri: { capacity: 2 } }]);
    s.enableFeature('nic0', 'IOPF');
    s.registerFaultHandler('nic0', { type: 'external', timeoutNs: 1e9 });
    s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
    s.attach('nic0', 'd');
    const received = capture(s, 'pri.response');
    const tx = s.dma({ device: 'nic0', address: '0x0', length: 2 * 4096, access: 'read' });
    expect(stepUntil(s, () => s.pendingFaults().length === 1)).toBe(true);
    expect(s.describe().devices[0]!.iopf.pri.outstanding).toBe(2);
    s.resetDevice('nic0');
    s.runUntilIdle();
    expect(tx.state).toBe('aborted');
    expect(received).toHaveLength(0);
    expect(s.describe().devices[0]!.iopf.pri).toMatchObject({ outstanding: 0, unexpectedPrgIndex: false });
    expect(s.metrics().system.faults.outcomes['reset:INVALID']).toBe(1);
  });
});
