/**
 * What an IOMMU family model provides: its default capabilities, how it names a fault, and the few
 * structural rules that differ between VT-d and SMMUv3. The translation machinery itself is shared
 * (iommu.ts); families only decode and report.
 */
import type { DeviceCapabilities } from '../device/device-capabilities';
import type { KernelProfile } from '../profile/kernel-profile';
import type { IommuCapabilities, IommuFamily } from './capabilities';
import type { FaultKind } from './fault-kind';
import { smmuv3Model } from './smmuv3';
import { vtdModel } from './vtd';

/** A family's name for a fault: VT-d fault reason (FR) or SMMUv3 event ID. */
export interface FamilyFaultCode {
  code: number;
  name: string;
  /** False when the hardware aborts the access without recording anything. */
  recorded: boolean;
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
  faultCode(kind: FaultKind, stage: 1 | 2, nested: boolean): FamilyFaultCode;
  /** Whether the driver can enable I/O page faults for this device under the profile. */
  iopfSupported(device: DeviceCapabilities, profile: KernelProfile): boolean;
}

export const FAMILY_MODELS: Record<IommuFamily, IommuFamilyModel> = { vtd: vtdModel, smmuv3: smmuv3Model };
