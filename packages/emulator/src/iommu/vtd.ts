/**
 * Intel VT-d in scalable mode: what this family does differently from SMMUv3. Fault reasons are the
 * scalable-mode codes of the VT-d spec as Linux prints them (drivers/iommu/intel/dmar.c,
 * dma_remap_sm_fault_reasons; reference §7).
 *
 * Below the family model, the records the hardware and the driver write, byte for byte (issue 14): the
 * page request descriptor (PRQ entry), the page group response descriptor (QI type 0x9) and the fault
 * recording register (FRCD), as bit-field tables for records/bit-layout.ts, with builders from the
 * emulator's own objects. Each table cites the struct or macros it is transcribed from.
 */
import { splitAddress } from '../address';
import { NO_PASID } from '../domain/domain';
import { parseRid } from '../device/requester-id';
import { fail } from '../errors';
import {
  PAGE_REQUEST_LAST_PAGE,
  RESPONSE_CODES,
  type PageRequest,
  type ResponseCode,
} from '../fault/page-request';
import { PERM_EXEC, PERM_PRIV, PERM_READ, PERM_WRITE } from '../pagetable/permissions';
import { carryRecord, defineRecord, encodeRecord } from '../records/bit-layout';
import type { IommuCapabilities } from './capabilities';
import type { FaultKind } from './fault-kind';
import type { FaultRecord } from './fault-record';
import type { FamilyFaultCode, IommuFamilyModel, IntakeVerdict, WireResponse } from './family';

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

/**
 * The PRQ thread's checks (KernelProfile.vtdPageRequestChecks 'mainline'), in the order prq_event_thread
 * makes them (drivers/iommu/intel/prq.c); each `goto bad_req` answers INVALID, and handle_bad_prq_event
 * sends it only for the last request of a group:
 * - "Address is not canonical": is_canonical_address() on the CPU's 48-bit virtual addresses (4-level
 *   paging; a CPU with LA57 would take 57 bits);
 * - "Page request in Privilege Mode": a privileged request with read or write;
 * - "Execution request not supported": an execute request with read;
 * - "Drop Stop Marker message. No need for a response." (LPIG with neither read nor write).
 * The next check, a RID the driver does not know (device_rbtree_find), never fails here: every device that
 * sends a page request was probed by its IOMMU.
 */
function vtdIntake(request: PageRequest): IntakeVerdict {
  if (!canonical48(request.page)) return 'bad-request';
  if ((request.perm & PERM_PRIV) !== 0 && (request.perm & (PERM_READ | PERM_WRITE)) !== 0)
    return 'bad-request';
  if ((request.perm & PERM_EXEC) !== 0 && (request.perm & PERM_READ) !== 0) return 'bad-request';
  if (request.stopMarker) return 'drop';
  return 'report';
}

/**
 * The same thread in v5.13 (drivers/iommu/intel/svm.c prq_event_thread), before v5.14 moved it to the iopf
 * core ("iommu/vt-d: Refactor prq_event_thread()", "Report prq to io-pgfault framework"). Its checks, in
 * order; `goto no_pasid` and `goto bad_req` both answer with result = QI_RESP_INVALID when LPIG is set:
 * - `if (!req->pasid_present)`: "Page request without PASID", goto no_pasid;
 * - `if (req->pm_req && (req->rd_req | req->wr_req))`: "Unexpected page request in Privilege Mode", and
 *   `if (req->exe_req && req->rd_req)`: "Execution request not supported", both goto no_pasid (added in
 *   March 2021 by "iommu/vt-d: Reject unsupported page request modes");
 * - `if (!svm || svm->pasid != req->pasid)`: ioasid_find(NULL, req->pasid, NULL) finds an svm only for a
 *   PASID bound to a process (intel_svm_bind_mm) or to a guest's table (intel_svm_bind_gpasid, here a nested
 *   domain); IS_ERR_OR_NULL(svm) is "Page request for invalid PASID", goto no_pasid. [?: ioasid_find is
 *   global and the native path never checks the device (sdev); the model looks at the device's own PASID.]
 * - `if (!svm->mm)` (supervisor SVA, not modelled), then `if (!is_canonical_address(address))`, goto bad_req;
 * - then SVM_FLAG_GUEST_MODE reports it (intel_svm_prq_report), and a native bond's fault is resolved by the
 *   thread itself (find_extend_vma, access_error, handle_mm_fault): 'report', to the kernel's SVA handler.
 * There is no Stop Marker check (it came in v5.18, "iommu/vt-d: Drop stop marker messages"): one reaching
 * the thread is handled as a request (the model's carries address 0). The model sends it after the detach
 * that emptied its PASID, so the lookup above answers it INVALID, as find_extend_vma finding no VMA at 0
 * would.
 */
function vtdIntakeV513(request: PageRequest): IntakeVerdict {
  if (request.pasid === NO_PASID) return 'bad-request';
  if ((request.perm & PERM_PRIV) !== 0 && (request.perm & (PERM_READ | PERM_WRITE)) !== 0)
    return 'bad-request';
  if ((request.perm & PERM_EXEC) !== 0 && (request.perm & PERM_READ) !== 0) return 'bad-request';
  const bound = request.device.pasidDomains.get(request.pasid)?.type;
  if (bound !== 'sva' && bound !== 'nested') return 'bad-request';
  if (!canonical48(request.page)) return 'bad-request';
  return 'report';
}

/** Bits 63:47 of the page's address all equal (2^35 pages of 4 KiB below the hole, 2^35 above it). */
function canonical48(page: number): boolean {
  return page < 2 ** 35 || page >= 2 ** 52 - 2 ** 35;
}

/**
 * The page group response carries the kernel's enum value as its code (intel_iommu_page_response writes
 * QI_PGRP_RESP_CODE(msg->code)): FAILURE goes out as 0x2, not the spec's Response Failure 0xF. The device
 * takes 0x2, a code PCIe leaves unused, as Response Failure: "A Function receiving such a message shall
 * process it as if the message contained a Response Code of Response Failure" (PCIe, PRG Response Message,
 * as the RISC-V IOMMU reference model quotes it in iommu_ats.h).
 */
const VTD_WIRE: Record<ResponseCode, WireResponse> = {
  SUCCESS: { code: 0x0, name: 'QI_RESP_SUCCESS', device: 'Success' },
  INVALID: { code: 0x1, name: 'QI_RESP_INVALID', device: 'Invalid Request' },
  FAILURE: {
    code: 0x2,
    name: 'reserved 0x2 (kernel enum passed through; QI_RESP_FAILURE is 0xF)',
    device: 'Response Failure',
  },
};

export const vtdModel: IommuFamilyModel = {
  family: 'vtd',
  label: 'Intel VT-d (scalable mode)',
  defaults: VTD_DEFAULTS,
  platformDevices: false,
  auxDomains: true,
  nestedAtPasid: true,
  identityAtPasid: true,
  stalls: false,
  attachWithoutIopf: false,
  // First or second level by kernel era: the profile says which (intel/iommu.c first_level_by_default).
  dmaDomainStage: (profile) => profile.vtdDmaDomainStage,
  pteFormats: { stage1: 'vtd-fl', stage2: 'vtd-sl' },
  // intel/iommu.c has no viommu_init: VT-d takes no vIOMMU of its own.
  viommuTypes: [],
  forwardsToViommu: () => false,
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
  iopfMissing(device, iommu) {
    if (device.pri === null) return 'no PRI capability';
    if (!device.ats) return 'PRI needs ATS';
    if (!iommu.pri) return 'the IOMMU has no page request queue';
    return 'PASID is on but "PRG Response PASID Required" is clear';
  },
  intake: (request, profile) =>
    profile.vtdPageRequestChecks === 'v5.13' ? vtdIntakeV513(request) : vtdIntake(request),
  wireResponse: (code) => VTD_WIRE[code],
  // v5.13 prq_event_thread: a report that fails goes to bad_req, whose result is still QI_RESP_INVALID.
  failedReportResponse: 'INVALID',
  pageRequestRecord: (request) => carryRecord(VTD_PAGE_REQUEST_DESCRIPTOR, vtdPageRequestDescriptor(request)),
  pageResponseRecord: (request, code) =>
    carryRecord(
      VTD_PAGE_GROUP_RESPONSE,
      vtdPageGroupResponse({ rid: request.device.rid, pasid: request.pasid, grpid: request.grpid, code }),
    ),
  // A record lost to a full set of fault recording registers was never written.
  faultRecord: (record) => (record.recorded ? carryRecord(VTD_FAULT_RECORD, vtdFaultRecord(record)) : null),
};

// ---------------------------------------------------------------------------------------------------
// Hardware records: what VT-d and its Linux driver write, byte for byte (issue 14)
// ---------------------------------------------------------------------------------------------------

/**
 * Page request descriptor, 32 bytes, as the IOMMU writes it into the page request queue: Linux's
 * `struct page_req_dsc` (drivers/iommu/intel/prq.c), whose u64 bit-fields fill each word from bit 0 on
 * x86-64. The type value 1 is QEMU's VTD_PRD_TYPE (hw/i386/intel_iommu_internal.h); Linux never reads it.
 */
export const VTD_PAGE_REQUEST_DESCRIPTOR = defineRecord({
  id: 'vtd.page-request-descriptor',
  title: 'VT-d page request descriptor',
  bytes: 32,
  source:
    'Linux drivers/iommu/intel/prq.c struct page_req_dsc (qw_0: type:8 pasid_present:1 rsvd:7 rid:16 ' +
    'pasid:20 exe_req:1 pm_req:1 rsvd2:10; qw_1: rd_req:1 wr_req:1 lpig:1 prg_index:9 addr:52; qw_2, qw_3); ' +
    'type 1 = QEMU hw/i386/intel_iommu_internal.h VTD_PRD_TYPE',
  fields: {
    type: { bit: 0, width: 8, label: 'type', values: { 1: 'page request' } },
    pasidPresent: { bit: 8, width: 1, label: 'pasid_present' },
    rid: { bit: 16, width: 16, label: 'rid' },
    pasid: { bit: 32, width: 20, label: 'pasid' },
    exeReq: { bit: 52, width: 1, label: 'exe_req' },
    pmReq: { bit: 53, width: 1, label: 'pm_req' },
    rdReq: { bit: 64, width: 1, label: 'rd_req' },
    wrReq: { bit: 65, width: 1, label: 'wr_req' },
    lpig: { bit: 66, width: 1, label: 'lpig' },
    prgIndex: { bit: 67, width: 9, label: 'prg_index' },
    /** The page number: Linux reads the address as `(u64)desc->addr << VTD_PAGE_SHIFT`. */
    addr: { bit: 76, width: 52, label: 'addr' },
    qw2: { bit: 128, width: 64, label: 'qw_2 (private data)' },
    qw3: { bit: 192, width: 64, label: 'qw_3 (private data)' },
  },
});

/**
 * Page group response descriptor (invalidation queue type 0x9), as intel_iommu_page_response()
 * (drivers/iommu/intel/prq.c) fills `struct qi_desc` with the QI_PGRP_* macros of
 * drivers/iommu/intel/iommu.h. 32 bytes: in scalable mode every invalidation queue entry is 256 bits
 * (qi_shift() = DMAR_IQ_SHIFT + ecap_smts, and qi_submit_sync copies `1 << shift` bytes), and Linux writes
 * `desc.qw2 = 0; desc.qw3 = 0;` (it never sets QI_PGRP_PDP, so no private data goes back).
 *
 * The response code is the Linux enum written as is: `QI_PGRP_RESP_CODE(msg->code)` with msg->code an
 * `enum iommu_page_response_code` (SUCCESS 0, INVALID 1, FAILURE 2), while the descriptor's code for
 * Response Failure is QI_RESP_FAILURE 0xf. A FAILURE therefore goes out as 2, a code PCIe leaves unused
 * ("A Function receiving such a message shall process it as if the message contained a Response Code
 * of Response Failure", PCIe §10.4.2 as quoted in the RISC-V IOMMU reference model, iommu_ats.h).
 */
export const VTD_PAGE_GROUP_RESPONSE = defineRecord({
  id: 'vtd.page-group-response',
  title: 'VT-d page group response descriptor',
  bytes: 32,
  source:
    'Linux drivers/iommu/intel/iommu.h QI_PGRP_RESP_TYPE 0x9, QI_PGRP_PASID_P(p) <<4, QI_PGRP_PDP(p) <<5, ' +
    'QI_PGRP_RESP_CODE(res) <<12, QI_PGRP_DID(rid) <<16, QI_PGRP_PASID(pasid) <<32; qw1 QI_PGRP_LPIG(x) <<2, ' +
    'QI_PGRP_IDX(idx) <<3; filled by intel_iommu_page_response() in drivers/iommu/intel/prq.c (qw2 = qw3 = 0)',
  fields: {
    type: { bit: 0, width: 4, label: 'QI_PGRP_RESP_TYPE', values: { 9: 'page group response' } },
    pasidPresent: { bit: 4, width: 1, label: 'QI_PGRP_PASID_P' },
    privateDataPresent: { bit: 5, width: 1, label: 'QI_PGRP_PDP' },
    responseCode: {
      bit: 12,
      width: 4,
      label: 'QI_PGRP_RESP_CODE',
      values: {
        0x0: 'Success (QI_RESP_SUCCESS)',
        0x1: 'Invalid Request (QI_RESP_INVALID)',
        0x2: 'reserved: Linux IOMMU_PAGE_RESP_FAILURE (2) written as is; PCIe treats an unused code as Response Failure',
        0xf: 'Response Failure (QI_RESP_FAILURE)',
      },
    },
    /** QI_PGRP_DID(rid): the macro is named DID but carries the requester ID (PCI_DEVID(bus, devfn)). */
    rid: { bit: 16, width: 16, label: 'QI_PGRP_DID (requester id)' },
    pasid: { bit: 32, width: 20, label: 'QI_PGRP_PASID' },
    lpig: { bit: 66, width: 1, label: 'QI_PGRP_LPIG' },
    prgIndex: { bit: 67, width: 9, label: 'QI_PGRP_IDX' },
    qw2: { bit: 128, width: 64, label: 'qw2' },
    qw3: { bit: 192, width: 64, label: 'qw3' },
  },
});

/**
 * Fault recording register, 128 bits, as dmar_fault() (drivers/iommu/intel/dmar.c) reads it: the top
 * dword at +12 (DMA_FRCD_F, dma_frcd_type, dma_frcd_fault_reason, dma_frcd_pasid_value), the dword at +8
 * (dma_frcd_source_id, dma_frcd_pasid_present) and the low qword (dma_frcd_page_addr), macros of
 * drivers/iommu/intel/iommu.h; QEMU writes the same places (VTD_FRCD_* in hw/i386/intel_iommu_internal.h).
 * Linux has no macro for AT, PRIV and EXE: their bits are the VT-d spec's FRCD_REG layout [spec~].
 */
export const VTD_FAULT_RECORD = defineRecord({
  id: 'vtd.fault-record',
  title: 'VT-d fault recording register (FRCD)',
  bytes: 16,
  source:
    'Linux drivers/iommu/intel/iommu.h FRCD_REG macros as dmar_fault() in drivers/iommu/intel/dmar.c reads ' +
    'them: +12 DMA_FRCD_F bit 31, dma_frcd_type (d >> 30) & 1, dma_frcd_fault_reason c & 0xff, ' +
    'dma_frcd_pasid_value (c >> 8) & 0xfffff; +8 dma_frcd_source_id c & 0xffff, dma_frcd_pasid_present ' +
    '(c >> 31) & 1; +0 dma_frcd_page_addr; AT [125:124], EXE 94, PRIV 93 from the VT-d spec [spec~]',
  fields: {
    /** FI: the faulting page address, bits 63:12 (dma_frcd_page_addr keeps them in place). */
    faultInfo: { bit: 12, width: 52, label: 'FI (dma_frcd_page_addr)' },
    sourceId: { bit: 64, width: 16, label: 'SID (dma_frcd_source_id)' },
    privilegeModeRequested: { bit: 93, width: 1, label: 'PRIV [spec~]' },
    executeRequested: { bit: 94, width: 1, label: 'EXE [spec~]' },
    pasidPresent: { bit: 95, width: 1, label: 'PP (dma_frcd_pasid_present)' },
    faultReason: { bit: 96, width: 8, label: 'FR (dma_frcd_fault_reason)' },
    pasid: { bit: 104, width: 20, label: 'PV (dma_frcd_pasid_value)' },
    addressType: {
      bit: 124,
      width: 2,
      label: 'AT [spec~]',
      values: { 0: 'untranslated', 1: 'translation request', 2: 'translated' },
    },
    type: { bit: 126, width: 1, label: 'T (dma_frcd_type)', values: { 0: 'DMA Write', 1: 'DMA Read' } },
    fault: { bit: 127, width: 1, label: 'F (DMA_FRCD_F)' },
  },
});

/** The request as the IOMMU writes it into its page request queue. A Stop Marker is L=1, R=W=0. */
export function vtdPageRequestDescriptor(request: PageRequest): Uint8Array {
  const hasPasid = request.pasid !== NO_PASID;
  return encodeRecord(VTD_PAGE_REQUEST_DESCRIPTOR, {
    type: 1,
    pasidPresent: hasPasid ? 1 : 0,
    rid: request.device.rid,
    pasid: hasPasid ? request.pasid : 0,
    exeReq: bit(request.perm, PERM_EXEC),
    pmReq: bit(request.perm, PERM_PRIV),
    rdReq: bit(request.perm, PERM_READ),
    wrReq: bit(request.perm, PERM_WRITE),
    lpig: bit(request.flags, PAGE_REQUEST_LAST_PAGE),
    prgIndex: request.grpid,
    addr: request.page,
  });
}

export interface VtdPageGroupResponseInput {
  /** Requester ID of the device, bus << 8 | devfn. */
  rid: number;
  /** The request's PASID, NO_PASID (-1) when it carried none. */
  pasid: number;
  /**
   * The request's IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID. It does not change the bytes: Linux sets
   * QI_PGRP_PASID_P from the request's PASID_VALID, and intel_prq_report() sets NEEDS_PASID with every
   * PASID it reports, so on VT-d the two never differ.
   */
  needsPasid?: boolean;
  grpid: number;
  /** The Linux code the iopf core answered with; written as Linux writes it (FAILURE as 2). */
  code: ResponseCode;
}

/**
 * The descriptor intel_iommu_page_response() queues. PASID_P follows the request's PASID_VALID, the
 * PASID field is written even without it (prm->pasid, 0 here), LPIG is set because a response always
 * answers the last request of a group (iopf_group_response uses group->last_fault).
 */
export function vtdPageGroupResponse(input: VtdPageGroupResponseInput): Uint8Array {
  const hasPasid = input.pasid !== NO_PASID;
  return encodeRecord(VTD_PAGE_GROUP_RESPONSE, {
    type: 0x9,
    pasidPresent: hasPasid ? 1 : 0,
    responseCode: linuxResponseCodeValue(input.code),
    rid: input.rid,
    pasid: hasPasid ? input.pasid : 0,
    lpig: 1,
    prgIndex: input.grpid,
  });
}

/** enum iommu_page_response_code: SUCCESS 0, INVALID 1, FAILURE 2 (include/linux/iommu.h, reference §1). */
export function linuxResponseCodeValue(code: ResponseCode): number {
  return RESPONSE_CODES.indexOf(code);
}

/**
 * The FRCD the IOMMU writes for an unrecoverable fault of this model, with F set. FR is the scalable-mode
 * reason the family model chose (record.code). Choices where the model is silent: T is 1 (read) for a
 * read or an execute (an instruction fetch is a read with EXE set), AT is 0 (the model's faulting
 * requests are untranslated). A record the model marks lost (queue full) was never written: the caller
 * shows only records with `recorded`.
 */
export function vtdFaultRecord(record: FaultRecord): Uint8Array {
  if (record.family !== 'vtd')
    fail('EINVAL', `fault ${record.codeName} was raised by ${record.family}, not VT-d.`, {
      reason: 'wrong-family',
    });
  return encodeRecord(VTD_FAULT_RECORD, {
    faultInfo: splitAddress(record.address).page,
    sourceId: parseRid(record.rid, 'pci'),
    privilegeModeRequested: record.privileged ? 1 : 0,
    executeRequested: record.access === 'exec' ? 1 : 0,
    pasidPresent: record.pasid === null ? 0 : 1,
    faultReason: record.code,
    pasid: record.pasid ?? 0,
    addressType: 0,
    type: record.access === 'write' ? 0 : 1,
    fault: 1,
  });
}

function bit(value: number, mask: number): number {
  return (value & mask) !== 0 ? 1 : 0;
}
