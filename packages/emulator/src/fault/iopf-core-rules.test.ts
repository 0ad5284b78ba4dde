import { describe, expect, it } from 'vitest';
import { PRI_DEVICE, USER_BASE, bindProcess, capture, stepUntil, systemWith } from '../testing/fixtures';
import type { FaultHandler } from './handlers/fault-handler';

describe('the iopf core (io-pgfault.c, reference §2)', () => {
  it('answers a request with no handler INVALID at once, even a partial one, for its PRG', () => {
    // mainline: a DMA domain has no fault handler; the device still sends page requests.
    const s = systemWith('vtd', 'mainline', [{ id: 'nic0', ...PRI_DEVICE }]);
    s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
    bindProcess(s, 'nic0'); // switches PRI on
    s.attach('nic0', 'd');
    const responses = capture(s, 'fault.response');
    const unexpected = capture(s, 'pri.unexpected-response');
    const tx = s.dma({ device: 'nic0', address: '0x0', length: 3 * 4096, access: 'read' });
    s.runUntilIdle();
    expect(tx.error).toBe('page-request-invalid');
    // One INVALID per request, each naming the same PRG: the device takes the first, and the later
    // ones name a PRG index that is no longer outstanding (Status UPRGI).
    expect(responses.map((r) => [r.code, r.cause, r.grpid, r.group])).toEqual([
      ['INVALID', 'no-handler', 0, null],
      ['INVALID', 'no-handler', 0, null],
      ['INVALID', 'no-handler', 0, null],
    ]);
    expect(unexpected).toHaveLength(2);
    expect(s.describe().devices[0]!.iopf.pri.unexpectedPrgIndex).toBe(true);
  });

  it('merges partial requests into the group of the last by group index only, not PASID', () => {
    const s = systemWith('vtd', 'seed-5.13', [{ id: 'nic0', ...PRI_DEVICE }]);
    bindProcess(s, 'nic0');
    s.createProcess({ id: 'other' });
    const other = s.svaBind('nic0', 'other').pasid;
    const device = s.device('nic0');
    const groups = capture(s, 'fault.group');
    const base = {
      device,
      perm: 1,
      grpid: 7,
      transport: 'pri' as const,
      kind: 'translation' as const,
      stage: 1 as const,
      stage2Page: undefined,
      stopMarker: false,
      sentNs: 0,
      flow: null,
      responseCode: 'SUCCESS' as const,
      pooled: false,
      free: false,
    };
    s.faults.report({ ...base, seq: 901, pasid: 1, page: USER_BASE / 4096, flags: 1 });
    s.faults.report({ ...base, seq: 902, pasid: other, page: USER_BASE / 4096 + 1, flags: 1 }); // another PASID, same PRG index
    s.faults.report({ ...base, seq: 903, pasid: 1, page: USER_BASE / 4096 + 2, flags: 1 | 2 });
    expect(groups).toHaveLength(1);
    expect(groups[0]!.requests).toEqual([901, 902, 903]);
  });

  it('answers FAILURE when a handler declines the group (and FAILURE stops PRI on the device)', () => {
    const s = systemWith('vtd', 'proposal', [{ id: 'nic0', ...PRI_DEVICE }]);
    const { pasid } = bindProcess(s, 'nic0');
    const declining: FaultHandler = {
      type: 'external',
      categories: ['BIND'],
      handle: () => false,
      describe: () => ({ type: 'external', categories: ['BIND'] }),
    };
    s.device('nic0').faultHandlers.set('BIND', declining);
    const tx = s.dma({ device: 'nic0', pasid, address: USER_BASE, length: 8, access: 'read' });
    s.runUntilIdle();
    expect(s.metrics().system.faults.outcomes['handler-refused:FAILURE']).toBe(1);
    expect(tx.error).toBe('response-failure');
    expect(s.describe().devices[0]!.iopf.pri.responseFailure).toBe(true);
  });

  it('the SVA handler stops at the first fault it cannot resolve and answers INVALID, never FAILURE', () => {
    const s = systemWith('vtd', 'seed-5.13', [{ id: 'nic0', ...PRI_DEVICE }]);
    const { pasid } = bindProcess(s, 'nic0', 0x2000);
    const faults = capture(s, 'process.page-fault');
    // Pages 0 and 1 are in the VMA, page 2 is not, page 3 is not either.
    const tx = s.dma({ device: 'nic0', pasid, address: USER_BASE, length: 4 * 4096, access: 'write' });
    s.runUntilIdle();
    expect(tx.error).toBe('page-request-invalid');
    expect(faults.map((f) => [f.address, f.outcome])).toEqual([
      ['0x7f0000000000', 'minor'],
      ['0x7f0000001000', 'minor'],
      ['0x7f0000002000', 'no-vma'],
    ]);
    expect(s.metrics().system.faults.responses).toEqual({ SUCCESS: 0, INVALID: 1, FAILURE: 0 });
  });

  it('answers every pending group exactly once: a second answer to the same group is ignored', () => {
    const s = systemWith('vtd', 'proposal', [{ id: 'nic0', ...PRI_DEVICE }]);
    s.enableFeature('nic0', 'IOPF');
    s.registerFaultHandler('nic0', { type: 'external', timeoutNs: 1e9 });
    s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
    s.attach('nic0', 'd');
    s.dma({ device: 'nic0', address: '0x0', length: 8, access: 'read' });
    expect(stepUntil(s, () => s.pendingFaults().length > 0)).toBe(true);
    const [pending] = s.pendingFaults();
    s.respondToFault(pending!.cookie, 'INVALID');
    expect(() => s.respondToFault(pending!.cookie, 'SUCCESS')).toThrow(
      expect.objectContaining({ code: 'EINVAL', reason: 'unknown-cookie' }),
    );
    s.runUntilIdle();
    expect(s.metrics().system.faults.responses).toEqual({ SUCCESS: 0, INVALID: 1, FAILURE: 0 });
  });
});
