/**
 * Kernel profiles (reference, table at the top). An IOMMU's driver behaves as one of three kernels wherever
 * Linux changed over time or the 2021 proposal never landed. Every behaviour switch lives here, named, so
 * a reader can see in one place what a profile decides.
 */
import type { DomainType } from '../domain/domain';
import { fail } from '../errors';
import type { HandlerType } from '../fault/handlers/fault-handler';

export const KERNEL_PROFILES = ['seed-5.13', 'mainline', 'proposal'] as const;
export type KernelProfileName = (typeof KERNEL_PROFILES)[number];

/** Fault categories of the proposal: page tables bound to the IOMMU (SVA, guest SVA) vs explicitly mapped. */
export type FaultCategory = 'BIND' | 'MAP';

export interface KernelProfile {
  name: KernelProfileName;
  /** iommu_dev_enable_feature()/disable exist (removed in v6.16, reference §3). */
  featureCalls: boolean;
  /** IOMMU_DEV_FEAT_AUX exists (VT-d only; gone by ≈v5.17). */
  auxFeature: boolean;
  /** IOPF is switched on, reference-counted, when a fault-capable domain is attached (mainline, §3). */
  implicitIopfOnAttach: boolean;
  /** Handlers are registered per device with a set of categories (the proposal). */
  categoryHandlers: boolean;
  /**
   * Where a page request's handler is found (fault/find-handler.ts), so where a device handler can be
   * registered (fault/handler-registry.ts):
   * - 'domain': the iopf_handler of the domain at the PASID or RID (io-pgfault.c find_fault_handler);
   * - 'device': the device's one handler (iommu.c iommu_report_device_fault calls fault_param->handler);
   * - 'category': the device's handler for the fault's category, or a nested domain's or iommufd HWPT's own.
   */
  faultHandlerLookup: 'domain' | 'device' | 'category';
  /**
   * The handlers a domain may be given of its own (domain->iopf_handler), by handler type, for which domain
   * types (fault/handler-registry.ts setDomainHandler); null where a domain has no handler (v5.13 reports to
   * the device, iommu_report_device_fault). Mainline: an iommufd fault object on a nested or paging HWPT
   * (iommufd_hwpt_alloc, IOMMU_HWPT_FAULT_ID_VALID); the proposal: a user queue or the guest's for a nested
   * domain's stage 1.
   */
  domainFaultHandlers: Readonly<Partial<Record<HandlerType, readonly DomainType[]>>> | null;
  /**
   * An external (user-space) handler is an iommufd fault queue, which answers SUCCESS or INVALID only
   * (include/uapi/linux/iommufd.h enum iommufd_page_response_code, read by iommufd_fault_fops_write).
   */
  externalHandlerIommufd: boolean;
  /** Stage-2 (MAP) faults are resolved by the host; mainline assumes stage 2 pinned (§4). */
  stage2FaultsHandled: boolean;
  /** SMMUv3 feeds PRI page requests to the fault path; mainline denies them (§6, §11). */
  smmuPriAccepted: boolean;
  /** Unrecoverable faults carry IOMMU_FAULT_REASON_* and go to a registered device handler (uapi 5.3–6.7, §1). */
  unrecoverableReports: boolean;
  /** A DMA domain may be attached at a PASID directly (iommu_attach_device_pasid, v6.2+); before, only as AUX. */
  dmaDomainAtPasid: 'direct' | 'aux';
  /** Default VT-d stage for DMA domains: second level before v6.x, first level in mainline. */
  vtdDmaDomainStage: 1 | 2;
  /**
   * Which VT-d prq_event_thread checks a page request (iommu/vtd.ts): v5.13's in drivers/iommu/intel/svm.c
   * (PASID required, SVA PASIDs only, Stop Markers not dropped until v5.18) or today's intel/prq.c.
   */
  vtdPageRequestChecks: 'v5.13' | 'mainline';
  /**
   * Which struct iommu_fault (with iommu_fault_page_request and iommu_page_response) the kernel has
   * (reference §1; both laid out in fault/linux-fault-structs.ts):
   * - 'uapi-5.13': include/uapi/linux/iommu.h of v5.13: {type, padding, union {event, prm, padding2[56]}}
   *   (since v5.3), IOMMU_FAULT_PAGE_REQ = 2, NEEDS_PASID 1 << 3, response {argsz (v5.10), version, flags,
   *   pasid, grpid, code}.
   * - 'linux-6.10': include/linux/iommu.h from v6.10 on: {type, prm}, IOMMU_FAULT_PAGE_REQ = 1 ("iommu:
   *   Remove unrecoverable fault data", 0edeab66, v6.9), response {pasid, grpid, code} ("iommu: Cleanup iopf
   *   data structure definitions", "iommu: Track iopf group instead of last fault", v6.9), NEEDS_PASID
   *   1 << 2 once PRIV_DATA went ("iommu/vt-d: Remove private data use in fault message", v6.10).
   */
  faultStruct: 'uapi-5.13' | 'linux-6.10';
  /**
   * iommufd objects (HWPTs, fault queues from v6.11, vIOMMU / vDEVICE / vEVENTQ from ≈v6.13-6.15, reference
   * §4) exist: iommufd was merged in v6.2, after the 2021 API; the proposal is built on mainline.
   */
  iommufd: boolean;
  /**
   * What the iopf core does when it cannot allocate the struct iopf_group of a last request (fail-nth
   * 'group'; both free the partials of that PRG index, leaving none stuck):
   * - 'abort-group': iommu_report_device_fault (io-pgfault.c, since v6.9) builds the group on its stack
   *   instead (iopf_group_alloc's abort_group), partials included, and answers it IOMMU_PAGE_RESP_FAILURE;
   * - 'driver-answers': v5.13 iommu_queue_iopf frees the partials and returns -ENOMEM, which
   *   iommu_report_device_fault hands back to the driver, and the driver answers the last request as it
   *   answers any report that failed (the family's `failedReportResponse`).
   */
  groupAllocFailure: 'abort-group' | 'driver-answers';
  /**
   * The errno of an SVA bind whose PASID allocation fails (fail-nth 'pasid'): today's iommu_alloc_mm_data
   * (iommu-sva.c) answers -ENOSPC for any failure of iommu_alloc_global_pasid; v5.13 iommu_sva_alloc_pasid
   * answers -ENOMEM when ioasid_alloc returns INVALID_IOASID.
   */
  pasidAllocFailure: 'ENOSPC' | 'ENOMEM';
}

const PROFILES: Record<KernelProfileName, KernelProfile> = {
  'seed-5.13': {
    name: 'seed-5.13',
    featureCalls: true,
    auxFeature: true,
    implicitIopfOnAttach: false,
    categoryHandlers: false,
    faultHandlerLookup: 'device',
    domainFaultHandlers: null,
    externalHandlerIommufd: false,
    stage2FaultsHandled: false,
    smmuPriAccepted: false,
    unrecoverableReports: true,
    dmaDomainAtPasid: 'aux',
    vtdDmaDomainStage: 2,
    vtdPageRequestChecks: 'v5.13',
    faultStruct: 'uapi-5.13',
    iommufd: false,
    groupAllocFailure: 'driver-answers',
    pasidAllocFailure: 'ENOMEM',
  },
  mainline: {
    name: 'mainline',
    featureCalls: false,
    auxFeature: false,
    implicitIopfOnAttach: true,
    categoryHandlers: false,
    faultHandlerLookup: 'domain',
    domainFaultHandlers: { external: ['nested', 'dma'] },
    externalHandlerIommufd: true,
    stage2FaultsHandled: false,
    smmuPriAccepted: false,
    unrecoverableReports: false,
    dmaDomainAtPasid: 'direct',
    vtdDmaDomainStage: 1,
    vtdPageRequestChecks: 'mainline',
    faultStruct: 'linux-6.10',
    iommufd: true,
    groupAllocFailure: 'abort-group',
    pasidAllocFailure: 'ENOSPC',
  },
  proposal: {
    name: 'proposal',
    featureCalls: true,
    auxFeature: true,
    implicitIopfOnAttach: false,
    categoryHandlers: true,
    faultHandlerLookup: 'category',
    domainFaultHandlers: { external: ['nested'], guest: ['nested'] },
    externalHandlerIommufd: false,
    stage2FaultsHandled: true,
    smmuPriAccepted: true,
    unrecoverableReports: true,
    dmaDomainAtPasid: 'aux',
    vtdDmaDomainStage: 2,
    vtdPageRequestChecks: 'mainline',
    // Built on mainline: today's structs.
    faultStruct: 'linux-6.10',
    iommufd: true,
    groupAllocFailure: 'abort-group',
    pasidAllocFailure: 'ENOSPC',
  },
};

export function kernelProfile(name: string): KernelProfile {
  if (!(KERNEL_PROFILES as readonly string[]).includes(name)) {
    fail('EINVAL', `kernel profile ${JSON.stringify(name)} must be one of ${KERNEL_PROFILES.join(', ')}.`, {
      reason: 'bad-profile',
    });
  }
  return PROFILES[name as KernelProfileName];
}

/** Refuses a call that the profile does not have, naming the profile. */
export function requireInProfile(profile: KernelProfile, available: boolean, call: string): void {
  if (!available) {
    fail('EPROFILE', `${call} does not exist under kernel profile ${profile.name}.`, {
      profile: profile.name,
      reason: 'not-in-profile',
    });
  }
}
