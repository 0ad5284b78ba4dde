/**
 * What each IOMMU family's driver does with a page request before the iopf core sees it, and how it
 * encodes a response on the wire (reference §6, §7, §11).
 * - VT-d (intel/prq.c): a Stop Marker is dropped; an execute request ("Execution request not supported")
 *   or a privileged one with R/W ("Page request in Privilege Mode") is answered INVALID when last.
 *   The page group response carries the kernel's enum value as its code: FAILURE goes out as 0x2, not
 *   the spec's Response Failure 0xF (intel_iommu_page_response; the device's reading of 0x2 is [?],
 *   taken here as Response Failure, the conservative reading of a reserved code).
 * - SMMUv3: PRI queue entries reach the iopf core only where the profile feeds them (the proposal);
 *   elsewhere "unexpected PRI request", answered CMD_PRI_RESP DENY when last. Responses map to
 *   PRI_RESP_SUCC / DENY / FAIL.
 */
import type { Iommu } from '../iommu/iommu';
import { PERM_EXEC, PERM_PRIV, PERM_READ, PERM_WRITE } from '../pagetable/permissions';
import type { PageRequest, ResponseCode } from './page-request';

export type IntakeVerdict = 'report' | 'drop' | 'bad-request' | 'pri-denied';

export function checkPageRequest(iommu: Iommu, request: PageRequest): IntakeVerdict {
  if (request.stopMarker) return 'drop';
  if (iommu.family === 'vtd') {
    if ((request.perm & PERM_EXEC) !== 0 && (request.perm & PERM_READ) !== 0) return 'bad-request';
    if ((request.perm & PERM_PRIV) !== 0 && (request.perm & (PERM_READ | PERM_WRITE)) !== 0)
      return 'bad-request';
    return 'report';
  }
  return iommu.profile.smmuPriAccepted ? 'report' : 'pri-denied';
}

/** What the device makes of a PRG response (PCIe response codes, §5). */
export type DeviceResponse = 'Success' | 'Invalid Request' | 'Response Failure';

export interface WireResponse {
  code: number;
  name: string;
  device: DeviceResponse;
}

const VTD_WIRE: Record<ResponseCode, WireResponse> = {
  SUCCESS: { code: 0x0, name: 'QI_RESP_SUCCESS', device: 'Success' },
  INVALID: { code: 0x1, name: 'QI_RESP_INVALID', device: 'Invalid Request' },
  FAILURE: {
    code: 0x2,
    name: 'reserved 0x2 (kernel enum passed through; QI_RESP_FAILURE is 0xF)',
    device: 'Response Failure',
  },
};

const SMMU_WIRE: Record<ResponseCode, WireResponse> = {
  SUCCESS: { code: 2, name: 'PRI_RESP_SUCC', device: 'Success' },
  INVALID: { code: 0, name: 'PRI_RESP_DENY', device: 'Invalid Request' },
  FAILURE: { code: 1, name: 'PRI_RESP_FAIL', device: 'Response Failure' },
};

export function encodeResponse(iommu: Iommu, code: ResponseCode): WireResponse {
  return (iommu.family === 'vtd' ? VTD_WIRE : SMMU_WIRE)[code];
}
