import { describe, expect, it } from 'vitest';
import { capture, expectRefused, stepUntil, systemWith } from '../testing/fixtures';

/** The proposal's outside MAP handler on a DMA domain at the RID (v5.13's VT-d driver reported no such request). */
function withExternal(timeoutNs = 1e9, timeoutResponse?: 'SUCCESS' | 'INVALID' | 'FAILURE') {
  const s = systemWith('vtd', 'proposal', [{ id: 'nic0', ats: true, pri: { capacity: 16 } }]);
  s.enableFeature('nic0', 'IOPF');
  s.registerFaultHandler('nic0', {
    type: 'external',
    timeoutNs,
    ...(timeoutResponse ? { timeoutResponse } : {}),
    categories: ['MAP'],
  });
  s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
  s.attach('nic0', 'd');
  return s;
}

describe('an external handler answers page requests with cookies (iommufd fault queue, reference §4)', () => {
  it('hands each group to the client with a cookie, from 1, and waits for the answer', () => {
    const s = withExternal();
    const awaiting = capture(s, 'fault.awaiting-client');
    const a = s.dma({ device: 'nic0', address: '0x0', length: 2 * 4096, access: 'read' });
    const b = s.dma({ device: 'nic0', address: '0x10000', length: 8, access: 'write' });
    expect(stepUntil(s, () => s.pendingFaults().length === 2)).toBe(true);
    expect(s.pendingFaults().map((p) => [p.cookie, p.faults.map((f) => f.address), p.category])).toEqual([
      [1, ['0x0', '0x1000'], 'MAP'],
      [2, ['0x10000'], 'MAP'],
    ]);
    expect(awaiting.map((e) => e.cookie)).toEqual([1, 2]);
    s.map('d', { iova: '0x0', size: 0x2000, prot: 'rw' });
    s.respondToFault(1, 'SUCCESS');
    s.respondToFault(2, 'INVALID');
    s.runUntilIdle();
    expect([a.state, b.error]).toEqual(['completed', 'page-request-invalid']);
    expect(s.pendingFaults()).toEqual([]);
  });

  it('lets the timeout answer for a client that does not, with the configured response', () => {
    const s = withExternal(20_000, 'INVALID');
    const responses = capture(s, 'fault.response');
    const tx = s.dma({ device: 'nic0', address: '0x0', length: 8, access: 'read' });
    s.runUntilIdle();
    expect(tx.error).toBe('page-request-invalid');
    expect(responses[0]).toMatchObject({ cause: 'timeout', code: 'INVALID' });
    expect(s.nowNs).toBeGreaterThan(20_000);
  });

  it('refuses an unknown cookie and a code the uAPI does not have; mainline iommufd has no FAILURE', () => {
    const s = systemWith('vtd', 'mainline', [{ id: 'vf0', ats: true, pri: { capacity: 8 } }]);
    s.createDomain({ id: 's2', iommu: 'iommu0', type: 'dma', nestParent: true });
    s.createDomain({ id: 'g', iommu: 'iommu0', type: 'nested', parent: 's2' });
    s.setDomainFaultHandler('g', { type: 'external' });
    s.attach('vf0', 'g');
    s.dma({ device: 'vf0', address: '0x0', length: 8, access: 'read' });
    expect(stepUntil(s, () => s.pendingFaults().length === 1)).toBe(true);
    expectRefused(s, () => s.respondToFault(42, 'SUCCESS'), 'EINVAL', 'unknown-cookie');
    expectRefused(s, () => s.respondToFault(1, 'FAILURE'), 'EINVAL', 'bad-response-code');
    expectRefused(s, () => s.respondToFault(1, 'MAYBE' as never), 'EINVAL', 'bad-response-code');
    s.respondToFault(1, 'INVALID');
  });
});
