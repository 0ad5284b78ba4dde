/**
 * Intel VT-d in scalable mode: what this family does differently from SMMUv3. Fault reasons are the
 * scalable-mode codes of the VT-d spec as Linux prints them (drivers/iommu/intel/dmar.c,
 * dma_remap_sm_fault_reasons; reference §7).
 */
import type { IommuCapabilities } from './capabilities';
import type { FaultKind } from './fault-kind';
import type { FamilyFaultCode, IommuFamilyModel } from './family';

/** FR codes of the scalable-mode fault reasons this model raises. */
const SM_REASONS = {
  pasidEnableClear: [0x45, 'SM: PASID Enable field in Context Entry is clear'],
  pasidTooLarge: [0x46, 'SM: PASID is larger than the max in Context Entry'],
  pasidEntryNotPresent: [0x59, 'SM: Present bit in PASID Table Entry is clear'],
  firstLevelNotPresent: [0x71, 'SM: Present bit in first-level paging entry is clear'],
  nestedFirstLevelBeyondMgaw: [0x74, 'SM: First-level entry address beyond MGAW in Nested translation'],
  secondLevelNotPresent: [0x79, 'SM: Read/Write permission error in second-level paging entry'],
  userToSupervisor: [0x81, 'SM: U/S set 0 for first-level translation with user privilege'],
  noExecute: [0x82, 'SM: No execute permission for request with PASID and ER=1'],
  beyondHardwareMax: [0x83, 'SM: Address beyond the DMA hardware max'],
  noWrite: [0x85, 'SM: No write permission for Write/AtomicOp request'],
  noRead: [0x86, 'SM: No read permission for Read/AtomicOp request'],
} as const satisfies Record<string, readonly [number, string]>;

function reason(key: keyof typeof SM_REASONS): FamilyFaultCode {
  const [code, name] = SM_REASONS[key];
  return { code, name, recorded: true };
}

/** Defaults. Queue depths: Linux's PRQ is 64 KiB of 32-byte descriptors = 2048 entries (prq.c, §9). */
const VTD_DEFAULTS: IommuCapabilities = {
  addressWidth: 48,
  pasidBits: 20,
  pri: true,
  stall: false,
  nesting: true,
  sva: true,
  pageSizes: ['4K', '2M', '1G'],
  // Assumption: IOTLB geometry is not published; 1024 entries, 8-way, LRU is a plausible modern size.
  iotlb: { entries: 1024, ways: 8, replacement: 'lru' },
  pageRequestQueueDepth: 2048,
  // Assumption: the number of fault recording registers (CAP_REG.NFR) is implementation-defined; 8 here.
  faultQueueDepth: 8,
};

export const vtdModel: IommuFamilyModel = {
  family: 'vtd',
  label: 'Intel VT-d (scalable mode)',
  defaults: VTD_DEFAULTS,
  platformDevices: false,
  auxDomains: true,
  nestedAtPasid: true,
  identityAtPasid: true,
  faultCode(kind: FaultKind, stage: 1 | 2, nested: boolean): FamilyFaultCode {
    switch (kind) {
      case 'blocked':
      case 'pasid-not-attached':
        return reason('pasidEntryNotPresent');
      case 'pasid-disabled':
        return reason('pasidEnableClear');
      case 'pasid-out-of-range':
        return reason('pasidTooLarge');
      case 'address-size':
        // A guest stage-1 output beyond stage 2's width is 0x74; any input beyond the width is 0x83.
        return reason(stage === 2 && nested ? 'nestedFirstLevelBeyondMgaw' : 'beyondHardwareMax');
      case 'translation':
        return reason(stage === 1 ? 'firstLevelNotPresent' : 'secondLevelNotPresent');
      case 'permission-read':
        return reason('noRead');
      case 'permission-write':
        return reason('noWrite');
      case 'permission-exec':
        return reason('noExecute');
      case 'permission-privilege':
        return reason('userToSupervisor');
    }
  },
  iopfSupported(device) {
    // intel_iommu_enable_iopf: PRI supported and ATS enabled; with PASID, "PRG Response PASID Required".
    return device.pri !== null && device.ats && (device.pasidBits === 0 || device.prgResponsePasidRequired);
  },
};
