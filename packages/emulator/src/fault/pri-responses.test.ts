import { describe, expect, it } from 'vitest';
import { PRI_DEVICE, USER_BASE, bindProcess, capture, stepUntil, systemWith } from '../testing/fixtures';

/**
 * A device whose faults go to an outside handler, so each test chooses the response: a MAP handler of the
 * proposal (v5.13's VT-d driver answered a page request without PASID INVALID itself, svm.c).
 */
function external() {
  const s = systemWith('vtd', 'proposal', [{ id: 'nic0', ...PRI_DEVICE }]);
  s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
  s.attach('nic0', 'd');
  s.enableFeature('nic0', 'IOPF');
  s.registerFaultHandler('nic0', { type: 'external', timeoutNs: 1e9 });
  return s;
}

function answer(s: ReturnType<typeof external>, code: 'SUCCESS' | 'INVALID' | 'FAILURE', mapFirst = false) {
  const tx = s.dma({ device: 'nic0', address: '0x0', length: 8, access: 'read' });
  expect(stepUntil(s, () => s.pendingFaults().length > 0)).toBe(true);
  if (mapFirst) s.map('d', { iova: '0x0', size: 0x1000, prot: 'rw' });
  const retries = capture(s, 'dma.page');
  s.respondToFault(s.pendingFaults()[0]!.cookie, code);
  s.runUntilIdle();
  return { tx, retries };
}

describe('page responses and what they do to the device (reference §5, §10.1)', () => {
  it('SUCCESS: the device retries the translation (a new ATS request) and completes', () => {
    const s = external();
    const { tx, retries } = answer(s, 'SUCCESS', true);
    expect(tx.state).toBe('completed');
    expect(tx.recoveries).toBe(1);
    expect(retries[0]).toMatchObject({ source: 'walk' }); // not from the ATC: a fresh ATS translation
  });

  it('SUCCESS without the page mapped: the retry faults again (no forward-progress guarantee)', () => {
    const s = external();
    const tx = s.dma({ device: 'nic0', address: '0x0', length: 8, access: 'read' });
    expect(stepUntil(s, () => s.pendingFaults().length > 0)).toBe(true);
    s.respondToFault(s.pendingFaults()[0]!.cookie, 'SUCCESS');
    expect(stepUntil(s, () => s.pendingFaults().length > 0)).toBe(true);
    expect(tx.state).toBe('waiting');
    s.respondToFault(s.pendingFaults()[0]!.cookie, 'INVALID');
    s.runUntilIdle();
    expect(tx.recoveries).toBe(1);
    expect(tx.error).toBe('page-request-invalid');
  });

  it('INVALID: the transaction ends with an error completion; the device carries on', () => {
    const s = external();
    const { tx } = answer(s, 'INVALID');
    expect(tx.state).toBe('faulted');
    expect(tx.error).toBe('page-request-invalid');
    expect(s.describe().devices[0]!.iopf.pri.responseFailure).toBe(false);
  });

  it('FAILURE: Response Failure stops the device page requests until a reset', () => {
    const s = external();
    const { tx } = answer(s, 'FAILURE');
    expect(tx.error).toBe('response-failure');
    expect(s.describe().devices[0]!.iopf.pri.responseFailure).toBe(true);
    // With RF set the next fault cannot become a page request: it is unrecoverable.
    const requests = capture(s, 'pri.page-request');
    const next = s.dma({ device: 'nic0', address: '0x0', length: 8, access: 'read' });
    s.runUntilIdle();
    expect(requests).toHaveLength(0);
    expect(next.error).toBe('unrecoverable');
    s.resetDevice('nic0');
    expect(s.describe().devices[0]!.iopf.pri.responseFailure).toBe(false);
    const after = s.dma({ device: 'nic0', address: '0x0', length: 8, access: 'read' });
    expect(stepUntil(s, () => s.pendingFaults().length > 0)).toBe(true);
    expect(after.state).toBe('waiting');
  });

  it('VT-d writes the kernel enum into the response descriptor: FAILURE goes out as 0x2, not 0xF (§11)', () => {
    const s = external();
    const wire = capture(s, 'fault.response');
    answer(s, 'FAILURE');
    expect(wire[0]).toMatchObject({ code: 'FAILURE', wireCode: 0x2 });
    expect(wire[0]!.wireName).toContain('0xF');
  });

  it('SMMUv3 under mainline denies PRI page requests (PRI_RESP_DENY): the fault ends INVALID (§6, §11)', () => {
    const s = systemWith('smmuv3', 'mainline', [{ id: 'nic0', ...PRI_DEVICE }]);
    const { pasid } = bindProcess(s, 'nic0');
    expect(s.describe().devices[0]!.iopf.pri.enabled).toBe(true);
    const wire = capture(s, 'fault.response');
    const tx = s.dma({ device: 'nic0', pasid, address: USER_BASE, length: 8, access: 'read' });
    s.runUntilIdle();
    expect(tx.error).toBe('page-request-invalid');
    expect(wire[0]).toMatchObject({ code: 'INVALID', wireName: 'PRI_RESP_DENY', cause: 'pri-denied' });
  });

  it('SMMUv3 under the proposal feeds PRI to the fault path and answers with PRI_RESP_SUCC', () => {
    const s = systemWith('smmuv3', 'proposal', [{ id: 'nic0', ...PRI_DEVICE }]);
    const { pasid } = bindProcess(s, 'nic0');
    const wire = capture(s, 'fault.response');
    const tx = s.dma({ device: 'nic0', pasid, address: USER_BASE, length: 8, access: 'read' });
    s.runUntilIdle();
    expect(tx.state).toBe('completed');
    expect(wire[0]).toMatchObject({ code: 'SUCCESS', wireName: 'PRI_RESP_SUCC', wireCode: 2 });
  });

  it('a response for a PRG index that is not outstanding sets UPRGI and is ignored', () => {
    const s = external();
    answer(s, 'SUCCESS', true);
    const request = {
      seq: 999,
      device: s.device('nic0'),
      pasid: -1,
      page: 0,
      perm: 1,
      grpid: 300,
      flags: 2,
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
    s.faults.sendResponse(request, 'SUCCESS', 'handler', 0);
    s.runUntilIdle();
    expect(s.describe().devices[0]!.iopf.pri.unexpectedPrgIndex).toBe(true);
    expect(s.metrics().devices.nic0!.faults.unexpectedResponses).toBe(1);
  });
});
