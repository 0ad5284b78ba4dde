/**
 * What Linux turns a fault into, byte for byte: struct iommu_fault (with its struct
 * iommu_fault_page_request) as the driver hands it to the iopf core, and struct iommu_page_response as
 * the core hands the answer back (reference §1). The kernel profile decides which definition applies
 * (KernelProfile.faultStruct):
 * - 'uapi-5.13', include/uapi/linux/iommu.h of v5.13: the fault is 64 bytes, {u32 type; u32 padding;
 *   union {event, prm, u8 padding2[56]}}, IOMMU_FAULT_DMA_UNRECOV 1 and IOMMU_FAULT_PAGE_REQ 2; flags
 *   PASID_VALID 1 << 0, LAST_PAGE 1 << 1, PRIV_DATA 1 << 2, NEEDS_PASID 1 << 3; the response is
 *   {argsz, version, flags, pasid, grpid, code}, 24 bytes (argsz since "iommu/uapi: Add argsz for user
 *   filled data", v5.10).
 * - 'linux-6.10', include/linux/iommu.h from v6.10 (read up to ≈v6.16): the fault is {u32 type; struct
 *   iommu_fault_page_request prm}, 48 bytes, and IOMMU_FAULT_PAGE_REQ is 1 ("iommu: Remove unrecoverable
 *   fault data", v6.9); the response is {pasid, grpid, code}, 12 bytes ("iommu: Cleanup iopf data
 *   structure definitions" dropped argsz and version, "iommu: Track iopf group instead of last fault"
 *   dropped flags, both v6.9); PRIV_DATA is gone and NEEDS_PASID is 1 << 2 ("iommu/vt-d: Remove private
 *   data use in fault message", v6.10).
 * prm is at byte 8 in both: after the explicit padding word in the old struct, after the hole the u64
 * addr's 8-byte alignment leaves in the new one (x86-64 and arm64). Kernel-internal structs are laid out
 * for those two ABIs; the lab models nothing else.
 */
import { NO_PASID } from '../domain/domain';
import type { KernelProfile } from '../profile/kernel-profile';
import {
  defineRecord,
  encodeRecord,
  pageAddressValue,
  type FieldSpec,
  type RecordLayout,
} from '../records/bit-layout';
import {
  PAGE_REQUEST_LAST_PAGE,
  PAGE_REQUEST_PASID_VALID,
  PAGE_REQUEST_PRIV_DATA,
  PAGE_REQUEST_RESPONSE_NEEDS_PASID,
  RESPONSE_CODES,
  type PageRequest,
  type ResponseCode,
} from './page-request';

export type FaultStructVersion = KernelProfile['faultStruct'];

/** enum iommu_fault_type, per definition. */
export const IOMMU_FAULT_TYPES: Readonly<Record<FaultStructVersion, Readonly<Record<number, string>>>> = {
  'uapi-5.13': { 1: 'IOMMU_FAULT_DMA_UNRECOV', 2: 'IOMMU_FAULT_PAGE_REQ' },
  'linux-6.10': { 1: 'IOMMU_FAULT_PAGE_REQ' },
};

/** IOMMU_FAULT_PAGE_REQ: 2 until the unrecoverable type was removed (v6.9), 1 after. */
export const IOMMU_FAULT_PAGE_REQ: Readonly<Record<FaultStructVersion, number>> = {
  'uapi-5.13': 2,
  'linux-6.10': 1,
};

/** IOMMU_FAULT_PAGE_REQUEST_* / IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID, per definition (null: no such flag). */
export const PAGE_REQUEST_FLAG_BITS: Readonly<
  Record<
    FaultStructVersion,
    { pasidValid: number; lastPage: number; privData: number | null; needsPasid: number }
  >
> = {
  'uapi-5.13': { pasidValid: 1 << 0, lastPage: 1 << 1, privData: 1 << 2, needsPasid: 1 << 3 },
  'linux-6.10': { pasidValid: 1 << 0, lastPage: 1 << 1, privData: null, needsPasid: 1 << 2 },
};

/** enum iommu_page_response_code, the same in every version. */
const RESPONSE_CODE_NAMES = {
  0: 'IOMMU_PAGE_RESP_SUCCESS',
  1: 'IOMMU_PAGE_RESP_INVALID',
  2: 'IOMMU_PAGE_RESP_FAILURE',
};

/** IOMMU_PAGE_RESP_VERSION_1, the only version the old response had. */
export const IOMMU_PAGE_RESP_VERSION_1 = 1;

/** The members of struct iommu_fault_page_request, `at` bytes into the enclosing struct. */
function pageRequestFields(at: number, prefix: string) {
  const bit = at * 8;
  const u32 = (offset: number, name: string): FieldSpec => ({
    bit: bit + offset * 8,
    width: 32,
    label: `${prefix}${name}`,
  });
  const u64 = (offset: number, name: string): FieldSpec => ({
    bit: bit + offset * 8,
    width: 64,
    label: `${prefix}${name}`,
  });
  return {
    flags: u32(0, 'flags'),
    pasid: u32(4, 'pasid'),
    grpid: u32(8, 'grpid'),
    perm: u32(12, 'perm'),
    addr: u64(16, 'addr'),
    privateData0: u64(24, 'private_data[0]'),
    privateData1: u64(32, 'private_data[1]'),
  };
}

/** struct iommu_fault_page_request (40 bytes), the same members in both definitions. */
export const IOMMU_FAULT_PAGE_REQUEST = defineRecord({
  id: 'linux.iommu-fault-page-request',
  title: 'struct iommu_fault_page_request',
  bytes: 40,
  source: 'include/linux/iommu.h (include/uapi/linux/iommu.h before v6.9): struct iommu_fault_page_request',
  fields: pageRequestFields(0, ''),
});

/** struct iommu_fault in each version the profiles model (`faultStruct`). */
export const FAULT_LAYOUTS = {
  'uapi-5.13': defineRecord({
    id: 'linux.iommu-fault.uapi-5.13',
    title: 'struct iommu_fault (v5.3-v6.8)',
    bytes: 64,
    source:
      'include/uapi/linux/iommu.h (v5.13): struct iommu_fault {type; padding; union {event; prm; padding2[56]}}',
    fields: {
      type: { bit: 0, width: 32, label: 'type', values: IOMMU_FAULT_TYPES['uapi-5.13'] },
      padding: { bit: 32, width: 32, label: 'padding' },
      ...pageRequestFields(8, 'prm.'),
    },
  }),
  'linux-6.10': defineRecord({
    id: 'linux.iommu-fault.linux-6.10',
    title: 'struct iommu_fault (v6.9+)',
    bytes: 48,
    source: 'include/linux/iommu.h (v6.10+): struct iommu_fault {type; prm}',
    fields: {
      type: { bit: 0, width: 32, label: 'type', values: IOMMU_FAULT_TYPES['linux-6.10'] },
      ...pageRequestFields(8, 'prm.'),
    },
  }),
} satisfies Record<FaultStructVersion, RecordLayout>;

/** struct iommu_page_response in each version the profiles model. */
export const RESPONSE_LAYOUTS = {
  'uapi-5.13': defineRecord({
    id: 'linux.iommu-page-response.uapi-5.13',
    title: 'struct iommu_page_response (v5.10-v6.8)',
    bytes: 24,
    source: 'include/uapi/linux/iommu.h (v5.13): struct iommu_page_response',
    fields: {
      argsz: { bit: 0, width: 32, label: 'argsz' },
      version: { bit: 32, width: 32, label: 'version' },
      flags: { bit: 64, width: 32, label: 'flags' },
      pasid: { bit: 96, width: 32, label: 'pasid' },
      grpid: { bit: 128, width: 32, label: 'grpid' },
      code: { bit: 160, width: 32, label: 'code', values: RESPONSE_CODE_NAMES },
    },
  }),
  'linux-6.10': defineRecord({
    id: 'linux.iommu-page-response.linux-6.10',
    title: 'struct iommu_page_response (v6.9+)',
    bytes: 12,
    source: 'include/linux/iommu.h (v6.10+): struct iommu_page_response',
    fields: {
      pasid: { bit: 0, width: 32, label: 'pasid' },
      grpid: { bit: 32, width: 32, label: 'grpid' },
      code: { bit: 64, width: 32, label: 'code', values: RESPONSE_CODE_NAMES },
    },
  }),
} satisfies Record<FaultStructVersion, RecordLayout>;

/** The struct iommu_fault layout of the profile. */
export function iommuFaultLayout(profile: KernelProfile): RecordLayout {
  return FAULT_LAYOUTS[profile.faultStruct];
}

/** The struct iommu_page_response layout of the profile. */
export function iommuPageResponseLayout(profile: KernelProfile): RecordLayout {
  return RESPONSE_LAYOUTS[profile.faultStruct];
}

/**
 * A request's flags as the kernel of `version` spells them. The emulator keeps the v5.13 bits
 * (page-request.ts); from v6.10 NEEDS_PASID is 1 << 2 and PRIV_DATA does not exist (the emulator never
 * sets it, and a kernel without it cannot say it, so it is dropped).
 */
export function kernelPageRequestFlags(flags: number, version: FaultStructVersion): number {
  const bits = PAGE_REQUEST_FLAG_BITS[version];
  return (
    ((flags & PAGE_REQUEST_PASID_VALID) !== 0 ? bits.pasidValid : 0) |
    ((flags & PAGE_REQUEST_LAST_PAGE) !== 0 ? bits.lastPage : 0) |
    ((flags & PAGE_REQUEST_PRIV_DATA) !== 0 && bits.privData !== null ? bits.privData : 0) |
    ((flags & PAGE_REQUEST_RESPONSE_NEEDS_PASID) !== 0 ? bits.needsPasid : 0)
  );
}

/** The prm members of a page request under `version`: pasid 0 without PASID, addr the page's address. */
export function pageRequestValues(request: PageRequest, version: FaultStructVersion) {
  return {
    flags: kernelPageRequestFlags(request.flags, version),
    pasid: request.pasid === NO_PASID ? 0 : request.pasid,
    grpid: request.grpid,
    perm: request.perm,
    // The request keeps the page: VT-d reports it page-aligned (desc->addr << VTD_PAGE_SHIFT); an SMMUv3
    // stall reports the full input address, whose offset the emulator does not keep.
    addr: pageAddressValue(request.page),
  };
}

/** struct iommu_fault of a page request, as the driver reports it under the profile. */
export function linuxIommuFault(request: PageRequest, profile: KernelProfile): Uint8Array {
  const version = profile.faultStruct;
  return encodeRecord(FAULT_LAYOUTS[version], {
    type: IOMMU_FAULT_PAGE_REQ[version],
    ...pageRequestValues(request, version),
  });
}

/**
 * struct iommu_page_response as the iopf core hands it to the driver's page_response. Under 'uapi-5.13'
 * version is IOMMU_PAGE_RESP_VERSION_1 and flags IOMMU_PAGE_RESP_PASID_VALID when `pasidValid`; argsz is
 * 0, as the in-kernel caller (iopf_complete_group) never set it: only a user-space caller would have, and
 * none was merged. From v6.9 there is no flag: `pasidValid` has nowhere to go, the driver decides.
 */
export function linuxPageResponse(
  response: { pasid: number; grpid: number; code: ResponseCode; pasidValid: boolean },
  profile: KernelProfile,
): Uint8Array {
  const values = {
    pasid: response.pasid === NO_PASID ? 0 : response.pasid,
    grpid: response.grpid,
    code: RESPONSE_CODES.indexOf(response.code),
  };
  if (profile.faultStruct === 'linux-6.10') return encodeRecord(RESPONSE_LAYOUTS['linux-6.10'], values);
  // Written out rather than spread: a spread object is slow for the generated encoder's reads.
  return encodeRecord(RESPONSE_LAYOUTS['uapi-5.13'], {
    pasid: values.pasid,
    grpid: values.grpid,
    code: values.code,
    version: IOMMU_PAGE_RESP_VERSION_1,
    flags: response.pasidValid ? 1 : 0,
  });
}
