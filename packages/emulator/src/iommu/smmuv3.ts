/**
 * Arm SMMUv3: what this family does differently from VT-d. Event IDs from the SMMUv3 spec as Linux and QEMU
 * define them (arm-smmu-v3.h, smmuv3-internal.h; reference §6).
 */
import type { IommuCapabilities } from './capabilities';
import type { FaultKind } from './fault-kind';
import type { FamilyFaultCode, IommuFamilyModel } from './family';

const EVENTS = {
  C_BAD_SUBSTREAMID: 0x08,
  C_BAD_CD: 0x0a,
  F_TRANSLATION: 0x10,
  F_ADDR_SIZE: 0x11,
  F_PERMISSION: 0x13,
} as const;

function event(name: keyof typeof EVENTS): FamilyFaultCode {
  return { code: EVENTS[name], name, recorded: true };
}

/** Defaults. EVTQ/PRIQ depth: QEMU's SMMUv3 uses log2 size 19 (smmuv3-internal.h, §9). */
const SMMUV3_DEFAULTS: IommuCapabilities = {
  addressWidth: 48,
  pasidBits: 20,
  pri: true,
  stall: true,
  nesting: true,
  sva: true,
  pageSizes: ['4K', '2M', '1G'],
  // Assumption, as for VT-d: 1024 entries, 8-way, LRU.
  iotlb: { entries: 1024, ways: 8, replacement: 'lru' },
  pageRequestQueueDepth: 2 ** 19,
  faultQueueDepth: 2 ** 19,
};

export const smmuv3Model: IommuFamilyModel = {
  family: 'smmuv3',
  label: 'Arm SMMUv3',
  defaults: SMMUV3_DEFAULTS,
  platformDevices: true,
  auxDomains: false,
  nestedAtPasid: false,
  identityAtPasid: false,
  faultCode(kind: FaultKind): FamilyFaultCode {
    switch (kind) {
      case 'blocked':
        // STE.Config = abort: the transaction is aborted and no event is recorded [spec~].
        return { code: 0, name: 'STE.Config abort (no event recorded)', recorded: false };
      case 'pasid-disabled':
      case 'pasid-out-of-range':
        return event('C_BAD_SUBSTREAMID');
      case 'pasid-not-attached':
        return event('C_BAD_CD');
      case 'address-size':
        return event('F_ADDR_SIZE');
      case 'translation':
        return event('F_TRANSLATION');
      case 'permission-read':
      case 'permission-write':
      case 'permission-exec':
      case 'permission-privilege':
        return event('F_PERMISSION');
    }
  },
  iopfSupported(device, profile) {
    // arm_smmu_master_iopf_supported: stall-capable masters with exactly one StreamID. PRI only where the
    // profile feeds SMMUv3 page requests to the fault path (the proposal).
    const stall = device.stall && device.streamIds === 1;
    const pri = profile.smmuPriAccepted && device.pri !== null && device.ats;
    return stall || pri;
  },
};
