/**
 * Under seed-5.13 the VT-d PRQ thread checks a page request as v5.13's drivers/iommu/intel/svm.c
 * prq_event_thread did, not as today's intel/prq.c: `if (!req->pasid_present)` first, the Privilege Mode and
 * execute checks, the svm lookup (`if (!svm || svm->pasid != req->pasid)`, ioasid_find), then
 * is_canonical_address, and no Stop Marker check (that came in v5.18). Each refusal answers
 * QI_RESP_INVALID from the thread when LPIG is set (the no_pasid and bad_req paths); the iopf core and the
 * device's handler never see it.
 */
import { describe, expect, it } from 'vitest';
import { NO_PASID } from '../domain/domain';
import { PAGE_REQUEST_LAST_PAGE, blankPageRequest, type PageRequest } from '../fault/page-request';
import { PERM_EXEC, PERM_PRIV, PERM_READ, PERM_WRITE } from '../pagetable/permissions';
import { kernelProfile } from '../profile/kernel-profile';
import type { System } from '../system';
import { PRI_DEVICE, USER_BASE, bindProcess, capture, systemWith } from '../testing/fixtures';
import { vtdModel } from './vtd';

const seed = kernelProfile('seed-5.13');
const mainline = kernelProfile('mainline');
const NON_CANONICAL = 2 ** 35; // address 0x0000_8000_0000_0000: bit 47 set, bits 63:48 clear

/** A last page request of nic0 at `pasid`, as the thread reads it from the queue. */
function request(s: System, fields: Partial<PageRequest>): PageRequest {
  return {
    ...blankPageRequest(),
    device: s.device('nic0'),
    page: USER_BASE / 4096,
    perm: PERM_READ,
    flags: PAGE_REQUEST_LAST_PAGE,
    pooled: false,
    ...fields,
  };
}

/** nic0 with IOPF on, its one fault handler an outside one, and a DMA domain at its RID. */
function outsideHandlerAtRid(): System {
  const s = systemWith('vtd', 'seed-5.13', [{ id: 'nic0', ...PRI_DEVICE }]);
  s.enableFeature('nic0', 'IOPF');
  s.registerFaultHandler('nic0', { type: 'external', timeoutNs: 1e9 });
  s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
  s.attach('nic0', 'd');
  return s;
}

describe('VT-d page request checks under seed-5.13 (v5.13 drivers/iommu/intel/svm.c prq_event_thread)', () => {
  it('answers a page request without PASID INVALID itself ("Page request without PASID", goto no_pasid)', () => {
    const s = outsideHandlerAtRid();
    const responses = capture(s, 'fault.response');
    const awaiting = capture(s, 'fault.awaiting-client');
    const tx = s.dma({ device: 'nic0', address: '0x0', length: 8, access: 'read' });
    s.runUntilIdle();
    expect(responses.map((r) => [r.code, r.cause, r.pasid])).toEqual([['INVALID', 'bad-request', null]]);
    expect(awaiting).toEqual([]);
    expect(tx.error).toBe('page-request-invalid');
    // Today's intel/prq.c no longer checks pasid_present: the same request goes to the iopf core.
    expect(vtdModel.intake(request(s, { pasid: NO_PASID, page: 0 }), mainline)).toBe('report');
  });

  it('answers INVALID a request at a PASID no process or guest is bound to ("Page request for invalid PASID")', () => {
    const s = outsideHandlerAtRid();
    s.enableFeature('nic0', 'AUX');
    s.createDomain({ id: 'aux', iommu: 'iommu0', type: 'dma' });
    s.attach('nic0', 'aux', { pasid: 5 });
    const responses = capture(s, 'fault.response');
    const awaiting = capture(s, 'fault.awaiting-client');
    const tx = s.dma({ device: 'nic0', pasid: 5, address: '0x0', length: 8, access: 'read' });
    s.runUntilIdle();
    // ioasid_find(NULL, req->pasid, NULL) has an svm only for intel_svm_bind_mm / intel_svm_bind_gpasid.
    expect(responses.map((r) => [r.code, r.cause, r.pasid])).toEqual([['INVALID', 'bad-request', 5]]);
    expect(awaiting).toEqual([]);
    expect(tx.error).toBe('page-request-invalid');
  });

  it('reports a request at a bound PASID, refusing Privilege Mode, execute with read and a non-canonical address', () => {
    const s = systemWith('vtd', 'seed-5.13', [{ id: 'nic0', ...PRI_DEVICE }]);
    const { pasid } = bindProcess(s, 'nic0');
    expect(vtdModel.intake(request(s, { pasid }), seed)).toBe('report');
    expect(vtdModel.intake(request(s, { pasid, perm: PERM_EXEC }), seed)).toBe('report');
    // "Unexpected page request in Privilege Mode" and "Execution request not supported" (v5.12 on).
    expect(vtdModel.intake(request(s, { pasid, perm: PERM_PRIV | PERM_WRITE }), seed)).toBe('bad-request');
    expect(vtdModel.intake(request(s, { pasid, perm: PERM_EXEC | PERM_READ }), seed)).toBe('bad-request');
    // `if (!is_canonical_address(address)) goto bad_req;`
    expect(vtdModel.intake(request(s, { pasid, page: NON_CANONICAL }), seed)).toBe('bad-request');
  });

  it('reports a request at a guest PASID (SVM_FLAG_GUEST_MODE: intel_svm_prq_report)', () => {
    const s = systemWith('vtd', 'seed-5.13', [{ id: 'nic0', ...PRI_DEVICE }]);
    s.createDomain({ id: 's2', iommu: 'iommu0', type: 'dma', nestParent: true });
    s.createDomain({ id: 'guest', iommu: 'iommu0', type: 'nested', parent: 's2' });
    s.attach('nic0', 'guest', { pasid: 9 });
    expect(vtdModel.intake(request(s, { pasid: 9 }), seed)).toBe('report');
    expect(vtdModel.intake(request(s, { pasid: NO_PASID }), seed)).toBe('bad-request');
  });

  it('has no Stop Marker check: one at a bound PASID goes on like any request, where mainline drops it', () => {
    const s = systemWith('vtd', 'seed-5.13', [{ id: 'nic0', ...PRI_DEVICE }]);
    const { pasid } = bindProcess(s, 'nic0');
    const marker = request(s, { pasid, page: 0, perm: 0, stopMarker: true });
    expect(vtdModel.intake(marker, seed)).toBe('report');
    expect(vtdModel.intake(marker, mainline)).toBe('drop');
  });

  it('answers the Stop Marker of an unbind INVALID, and the device finds no group for that PRG index', () => {
    const s = systemWith('vtd', 'seed-5.13', [{ id: 'nic0', ...PRI_DEVICE }]);
    bindProcess(s, 'nic0');
    const markers = capture(s, 'pri.stop-marker');
    const dropped = capture(s, 'pri.stop-marker-dropped');
    const responses = capture(s, 'fault.response');
    s.svaUnbind('nic0', 'app');
    s.runUntilIdle();
    expect(markers).toHaveLength(1);
    expect(dropped).toEqual([]);
    expect(responses.map((r) => [r.code, r.cause, r.request])).toEqual([
      ['INVALID', 'bad-request', markers[0]!.request],
    ]);
    expect(s.describe().devices[0]!.iopf.pri.unexpectedPrgIndex).toBe(true);
  });
});
