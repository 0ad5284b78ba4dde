/**
 * Why a translation failed, in family-neutral terms. The translation path detects one of these (a number,
 * so the hot path compares integers); each IOMMU family turns it into its own reason code when it records
 * the fault (vtd.ts, smmuv3.ts), and profiles with unrecoverable reports add Linux's IOMMU_FAULT_REASON_*.
 */
export const FAULT_NONE = 0;
/** The device is attached to the blocked domain (VT-d PASID entry cleared, SMMU STE abort). */
export const FAULT_BLOCKED = 1;
/** A PASID-tagged request from a device without PASID support. */
export const FAULT_PASID_DISABLED = 2;
/** A PASID at or above the device's PASID table size. */
export const FAULT_PASID_OUT_OF_RANGE = 3;
/** No domain attached at that PASID. */
export const FAULT_PASID_NOT_ATTACHED = 4;
/** The input address is beyond the domain's address width, or an output beyond physical memory. */
export const FAULT_ADDRESS_SIZE = 5;
/** No translation: the walk found a non-present entry. */
export const FAULT_TRANSLATION = 6;
export const FAULT_PERMISSION_READ = 7;
export const FAULT_PERMISSION_WRITE = 8;
export const FAULT_PERMISSION_EXEC = 9;
/** A user (unprivileged) request to a privileged-only page. */
export const FAULT_PERMISSION_PRIVILEGE = 10;

export const FAULT_KIND_NAMES = [
  'none',
  'blocked',
  'pasid-disabled',
  'pasid-out-of-range',
  'pasid-not-attached',
  'address-size',
  'translation',
  'permission-read',
  'permission-write',
  'permission-exec',
  'permission-privilege',
] as const;

export type FaultKind = Exclude<(typeof FAULT_KIND_NAMES)[number], 'none'>;

export function faultKindName(code: number): FaultKind {
  const name = FAULT_KIND_NAMES[code];
  if (name === undefined || name === 'none') throw new RangeError(`no fault kind ${code}`);
  return name;
}

/** Faults that a page request or a stall could resolve: the page is missing or lacks a permission. */
export function isRecoverableKind(code: number): boolean {
  return code >= FAULT_TRANSLATION;
}

/** Linux's removed unrecoverable-fault reasons (uapi 5.3–6.7, reference §1). */
export const LINUX_FAULT_REASONS = {
  blocked: 'IOMMU_FAULT_REASON_UNKNOWN',
  'pasid-disabled': 'IOMMU_FAULT_REASON_PASID_INVALID',
  'pasid-out-of-range': 'IOMMU_FAULT_REASON_PASID_INVALID',
  'pasid-not-attached': 'IOMMU_FAULT_REASON_BAD_PASID_ENTRY',
  'address-size': 'IOMMU_FAULT_REASON_OOR_ADDRESS',
  translation: 'IOMMU_FAULT_REASON_PTE_FETCH',
  'permission-read': 'IOMMU_FAULT_REASON_PERMISSION',
  'permission-write': 'IOMMU_FAULT_REASON_PERMISSION',
  'permission-exec': 'IOMMU_FAULT_REASON_PERMISSION',
  'permission-privilege': 'IOMMU_FAULT_REASON_PERMISSION',
} as const satisfies Record<FaultKind, string>;

export type LinuxFaultReason = (typeof LINUX_FAULT_REASONS)[FaultKind];
