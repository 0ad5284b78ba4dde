/**
 * A page request as the kernel sees it: struct iommu_fault_page_request (include/linux/iommu.h,
 * reference §1). Over PCIe it is a Page Request message (RID, PASID prefix, page address, PRG index,
 * L/W/R, Execute and Privileged bits, §5); on SMMUv3 stall it is built from a stall event record
 * (grpid = STAG, always LAST_PAGE, §6). The permission bits equal the emulator's PERM_* bits.
 */
import type { Device } from '../device/device';
import type { FaultFlow } from '../flow/fault-flow';
import type { FaultKind } from '../iommu/fault-kind';

/** iommu_fault_page_request.flags */
export const PAGE_REQUEST_PASID_VALID = 1 << 0;
export const PAGE_REQUEST_LAST_PAGE = 1 << 1;
export const PAGE_REQUEST_PRIV_DATA = 1 << 2;
export const PAGE_REQUEST_RESPONSE_NEEDS_PASID = 1 << 3;

/** enum iommu_page_response_code: SUCCESS retries the access, INVALID does not, FAILURE stops the device's faults. */
export const RESPONSE_CODES = ['SUCCESS', 'INVALID', 'FAILURE'] as const;
export type ResponseCode = (typeof RESPONSE_CODES)[number];

/** How the request reached the IOMMU. */
export type FaultTransport = 'pri' | 'stall';

export interface PageRequest {
  /** Lab-wide sequence number, for tracing one request from device to response. */
  seq: number;
  device: Device;
  /** NO_PASID (-1) when the request carried no PASID. */
  pasid: number;
  page: number;
  /** READ 1, WRITE 2, EXEC 4, PRIV 8 (IOMMU_FAULT_PERM_*). */
  perm: number;
  /** PCIe PRG index (9 bits) or SMMUv3 stall tag (16 bits). */
  grpid: number;
  flags: number;
  transport: FaultTransport;
  /** Why the translation failed, as the IOMMU would have reported it unrecoverably. */
  kind: FaultKind;
  /** Which stage's tables failed. */
  stage: 1 | 2;
  /** For a nested stage-2 fault, the guest physical page that missed (SMMUv3 events carry the IPA). */
  stage2Page: number | undefined;
  /** A PCIe Stop Marker (L=1, R=W=0 with PASID): never answered (§2, §5). */
  stopMarker: boolean;
  /** When the device sent it, in simulated ns. */
  sentNs: number;
  /** The fault flow it belongs to; null for a Stop Marker, which is no fault. */
  flow: FaultFlow | null;
  /** The code of the response on its way to the device for it (set when the response is sent). */
  responseCode: ResponseCode;
  /**
   * Taken from the fault path's pool (sim/pool.ts), which it rejoins when its life ends (answered at the
   * device, dropped, discarded); requests built elsewhere (a stall's, a test's) are not.
   */
  pooled: boolean;
  free: boolean;
}

/** A request with every field at its empty value, for a pool to fill. */
export function blankPageRequest(): PageRequest {
  return {
    seq: 0,
    device: null!,
    pasid: -1,
    page: 0,
    perm: 0,
    grpid: 0,
    flags: 0,
    transport: 'pri',
    kind: 'translation',
    stage: 1,
    stage2Page: undefined,
    stopMarker: false,
    sentNs: 0,
    flow: null,
    responseCode: 'SUCCESS',
    pooled: true,
    free: false,
  };
}

/** Flow ids of requests, for events. */
export function flowIds(requests: readonly PageRequest[]): number[] {
  const ids: number[] = [];
  for (const request of requests) if (request.flow !== null) ids.push(request.flow.id);
  return ids;
}

export function isLast(request: PageRequest): boolean {
  return (request.flags & PAGE_REQUEST_LAST_PAGE) !== 0;
}
