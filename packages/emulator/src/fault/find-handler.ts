/**
 * find_fault_handler (reference §2, §3, §4): which handler a page request goes to, and its fault category
 * (BIND: tables bound to the IOMMU — SVA, a guest's stage 1; MAP: tables managed by explicit map calls —
 * DMA domains, a nested domain's stage 2). The kernel profile names the lookup rule
 * (KernelProfile.faultHandlerLookup); this file carries each rule out:
 * - 'domain' (mainline): the handler of the domain attached at the request's PASID (or RID); stage-2
 *   faults are not handled, stage 2 being assumed pinned.
 * - 'device' (seed-5.13): the one handler registered on the device (iommu_register_device_fault_handler).
 * - 'category' (proposal): the device's handler for the fault's category; a domain with a handler of its
 *   own (a nested domain's guest queue, an iommufd HWPT's fault object) takes its stage-1 faults.
 */
import type { Device } from '../device/device';
import { type Domain, NO_PASID } from '../domain/domain';
import type { FaultCategory } from '../profile/kernel-profile';
import type { FaultHandler } from './handlers/fault-handler';
import type { ResponseCause } from './iopf-group';
import type { PageRequest } from './page-request';

export interface FoundHandler {
  handler: FaultHandler | null;
  domain: Domain | null;
  category: FaultCategory | null;
  /** Why there is no handler, for the INVALID response it leads to. */
  cause: ResponseCause;
}

export function faultCategory(domain: Domain | null, stage: 1 | 2): FaultCategory | null {
  if (domain === null) return null;
  switch (domain.type) {
    case 'sva':
      return 'BIND';
    case 'nested':
      return stage === 1 ? 'BIND' : 'MAP';
    case 'dma':
      return 'MAP';
    default:
      return null;
  }
}

/** Fills `out` (a scratch record reused per request, so the lookup allocates nothing). */
export function findFaultHandler(device: Device, request: PageRequest, out: FoundHandler): FoundHandler {
  const domain =
    (request.pasid === NO_PASID ? device.ridDomain : device.pasidDomains.get(request.pasid)) ?? null;
  const category = faultCategory(domain, request.stage);
  let handler: FaultHandler | null | undefined = null;
  let cause: ResponseCause = 'no-handler';
  if (domain !== null && category !== null) {
    switch (device.iommu.profile.faultHandlerLookup) {
      case 'domain':
        if (domain.type === 'nested' && request.stage === 2) cause = 'stage2-not-handled';
        else handler = domain.faultHandler;
        break;
      case 'device':
        handler = device.faultHandlers.get('*');
        break;
      case 'category':
        // A guest's queue takes its nested domain's stage-1 faults, an iommufd fault object the faults of
        // its HWPT's own table (stage 1); the rest go to the device's handler for their category.
        handler =
          domain.faultHandler !== null &&
          request.stage === 1 &&
          (domain.type === 'nested' || domain.faultHandler.type === 'iommufd')
            ? domain.faultHandler
            : device.faultHandlers.get(category);
        break;
    }
  }
  out.handler = handler ?? null;
  out.domain = domain;
  out.category = category;
  out.cause = handler ? 'handler' : cause;
  return out;
}
