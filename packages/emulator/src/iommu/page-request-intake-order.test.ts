/**
 * The VT-d PRQ thread's checks in prq_event_thread's order (drivers/iommu/intel/prq.c): not canonical,
 * privileged with R/W, execute with read, then the Stop Marker drop. The order decides what a request that
 * breaks two rules gets: a Stop Marker at a non-canonical address is answered INVALID, not dropped.
 */
import { describe, expect, it } from 'vitest';
import { blankPageRequest, PAGE_REQUEST_LAST_PAGE, type PageRequest } from '../fault/page-request';
import { PERM_EXEC, PERM_PRIV, PERM_READ, PERM_WRITE } from '../pagetable/permissions';
import { kernelProfile } from '../profile/kernel-profile';
import { smmuv3Model } from './smmuv3';
import { vtdModel } from './vtd';

const mainline = kernelProfile('mainline');

function request(fields: Partial<PageRequest>): PageRequest {
  return {
    ...blankPageRequest(),
    pasid: 1,
    page: 0x1000,
    perm: PERM_READ,
    flags: PAGE_REQUEST_LAST_PAGE,
    ...fields,
  };
}

const NON_CANONICAL = 2 ** 35; // address 0x0000_8000_0000_0000: bit 47 set, bits 63:48 clear

describe('VT-d page request intake, in the order of intel/prq.c', () => {
  it('reports a well-formed request, at either end of the canonical space', () => {
    expect(vtdModel.intake(request({}), mainline)).toBe('report');
    expect(vtdModel.intake(request({ page: NON_CANONICAL - 1 }), mainline)).toBe('report');
    expect(vtdModel.intake(request({ page: 2 ** 52 - 1 }), mainline)).toBe('report');
  });

  it('answers INVALID ("Address is not canonical") to an address in the hole', () => {
    expect(vtdModel.intake(request({ page: NON_CANONICAL }), mainline)).toBe('bad-request');
    expect(vtdModel.intake(request({ page: 2 ** 52 - 2 ** 35 - 1 }), mainline)).toBe('bad-request');
  });

  it('answers INVALID to a privileged read or write, and to an execute with read', () => {
    expect(vtdModel.intake(request({ perm: PERM_PRIV | PERM_WRITE }), mainline)).toBe('bad-request');
    expect(vtdModel.intake(request({ perm: PERM_EXEC | PERM_READ }), mainline)).toBe('bad-request');
    expect(vtdModel.intake(request({ perm: PERM_EXEC }), mainline)).toBe('report');
  });

  it('drops a Stop Marker, but only after the checks before it: a non-canonical one is answered INVALID', () => {
    const marker = { perm: 0, stopMarker: true };
    expect(vtdModel.intake(request(marker), mainline)).toBe('drop');
    expect(vtdModel.intake(request({ ...marker, perm: PERM_PRIV }), mainline)).toBe('drop');
    expect(vtdModel.intake(request({ ...marker, page: NON_CANONICAL }), mainline)).toBe('bad-request');
  });
});

describe('SMMUv3 PRI queue intake (arm_smmu_handle_ppr)', () => {
  it('denies every entry, a Stop Marker too, unless the profile feeds them to the iopf core', () => {
    const marker = request({ perm: 0, stopMarker: true });
    expect(smmuv3Model.intake(request({}), mainline)).toBe('pri-denied');
    expect(smmuv3Model.intake(marker, mainline)).toBe('pri-denied');
    expect(smmuv3Model.intake(request({}), kernelProfile('proposal'))).toBe('report');
    expect(smmuv3Model.intake(marker, kernelProfile('proposal'))).toBe('drop');
  });
});
