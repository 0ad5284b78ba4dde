/**
 * What an IOMMU family model provides: its default capabilities, how it names a fault, what its driver
 * does with a page request before the iopf core sees it and how it codes a response, and the rules that
 * differ between VT-d and SMMUv3 (stall, IOPF on attach and why a device has none, a DMA domain's default
 * stage, the page-table formats, the vIOMMU types and the events forwarded to one). Code outside iommu/
 * asks the model, never the family's name. The translation machinery itself is shared (iommu.ts);
 * families only decode and report.
 */
import type { DeviceCapabilities } from '../device/device-capabilities';
import type { PageRequest, ResponseCode } from '../fault/page-request';
import type { PteFormat } from '../pagetable/pte-decode';
import type { KernelProfile } from '../profile/kernel-profile';
import type { CarriedRecord } from '../records/bit-layout';
import type { IommuCapabilities, IommuFamily } from './capabilities';
import type { FaultKind } from './fault-kind';
import type { FaultRecord } from './fault-record';
import { smmuv3Model } from './smmuv3';
import { vtdModel } from './vtd';

/** A family's name for a fault: VT-d fault reason (FR) or SMMUv3 event ID. */
export interface FamilyFaultCode {
  code: number;
  name: string;
  /** False when the hardware aborts the access without recording anything. */
  recorded: boolean;
}

/**
 * What the driver does with a page request it reads from its queue: report it to the iopf core, drop it
 * (a Stop Marker), answer it INVALID as malformed (when last), or deny it (SMMUv3 PRI the driver does not
 * feed to the iopf core).
 */
export type IntakeVerdict = 'report' | 'drop' | 'bad-request' | 'pri-denied';

/** What the device makes of a PRG response (PCIe response codes, reference §5). */
export type DeviceResponse = 'Success' | 'Invalid Request' | 'Response Failure';

/** A page response as the driver codes it on the wire, and what the device makes of it. */
export interface WireResponse {
  code: number;
  name: string;
  device: DeviceResponse;
}

export interface IommuFamilyModel {
  family: IommuFamily;
  label: string;
  defaults: IommuCapabilities;
  /** Platform (non-PCI) devices can sit behind it. */
  platformDevices: boolean;
  /** Auxiliary domains (IOMMU_DEV_FEAT_AUX) exist: VT-d scalable mode only. */
  auxDomains: boolean;
  /** A nested domain may be attached at a PASID (VT-d PGTT=nested PASID entries). */
  nestedAtPasid: boolean;
  /** An identity domain may be attached at a PASID (VT-d pass-through PASID entries). */
  identityAtPasid: boolean;
  /**
   * A faulting transaction can be held and reported as a stall event (SMMUv3 CD.S / STE.S2S, the
   * event->stall path of arm_smmu_handle_event); VT-d has no stall model, only page requests.
   */
  stalls: boolean;
  /**
   * Under implicit IOPF (mainline) a fault-capable domain still attaches to a device that cannot take
   * I/O page faults, which gets none: arm_smmu_enable_iopf returns 0 for a master without stall ("this is
   * not a failure"); VT-d's iopf_for_domain_set fails the attach with intel_iommu_enable_iopf's -ENODEV.
   */
  attachWithoutIopf: boolean;
  /** A DMA domain's stage when none is asked for (first_level_by_default, arm_smmu_domain_finalise). */
  dmaDomainStage(profile: KernelProfile): 1 | 2;
  /**
   * How its stage-1 and stage-2 entries are laid out (pagetable/pte-decode.ts): VT-d first level (IA-32e)
   * and second level (intel/iommu.h DMA_PTE_*), Arm LPAE stage 1 and 2 (io-pgtable-arm.c ARM_LPAE_PTE_*).
   */
  pteFormats: { readonly stage1: PteFormat; readonly stage2: PteFormat };
  /**
   * The vIOMMU types IOMMU_VIOMMU_ALLOC takes on its devices (enum iommu_viommu_type): ARM_SMMUV3 is
   * arm_vsmmu_init's. DEFAULT is never one: iommufd_viommu_alloc_ioctl refuses it with -EOPNOTSUPP first.
   */
  viommuTypes: readonly number[];
  /**
   * Whether the driver hands this unrecoverable fault of a device with a vDEVICE to its vIOMMU's vEVENTQ
   * (arm_smmu_handle_event → arm_vmaster_report_event); VT-d forwards none.
   */
  forwardsToViommu(record: FaultRecord): boolean;
  faultCode(kind: FaultKind, stage: 1 | 2, nested: boolean): FamilyFaultCode;
  /** Whether the driver can enable I/O page faults for this device under the profile. */
  iopfSupported(device: DeviceCapabilities, profile: KernelProfile): boolean;
  /**
   * What the device lacks for I/O page faults behind this IOMMU, for the -ENODEV sentence: the check of
   * iopfSupported (intel_iommu_enable_iopf, arm_smmu_master_iopf_supported) or of the IOMMU that fails.
   */
  iopfMissing(device: DeviceCapabilities, iommu: IommuCapabilities, profile: KernelProfile): string;
  /** The driver's checks on a page request read from its queue, in the driver's order. */
  intake(request: PageRequest, profile: KernelProfile): IntakeVerdict;
  /** How the driver codes the iopf core's response for the device. */
  wireResponse(code: ResponseCode): WireResponse;
  /**
   * What the driver answers a page request that iommu_report_device_fault failed to take, where the
   * driver answers it (a profile whose groupAllocFailure is 'driver-answers').
   */
  failedReportResponse: ResponseCode;
  /** The queue entry the IOMMU writes for a PCIe page request: VT-d PRQ descriptor, SMMUv3 PRIQ entry. */
  pageRequestRecord(request: PageRequest): CarriedRecord;
  /** What the driver writes to answer it: VT-d page group response, SMMUv3 CMD_PRI_RESP. */
  pageResponseRecord(request: PageRequest, code: ResponseCode): CarriedRecord;
  /** What the IOMMU records for an unrecoverable fault (VT-d FRCD, SMMUv3 event); null when nothing. */
  faultRecord(record: FaultRecord): CarriedRecord | null;
}

export const FAMILY_MODELS: Record<IommuFamily, IommuFamilyModel> = { vtd: vtdModel, smmuv3: smmuv3Model };
