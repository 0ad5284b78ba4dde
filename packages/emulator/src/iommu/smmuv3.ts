/**
 * Arm SMMUv3: what this family does differently from VT-d. Event IDs from the SMMUv3 spec as Linux and QEMU
 * define them (arm-smmu-v3.h, smmuv3-internal.h; reference §6). Below the family model, the family's
 * byte-exact records: the event queue entry the SMMU writes for a fault or a stall, the PRI queue entry
 * for a page request, and the CMD_RESUME / CMD_PRI_RESP commands the driver answers with, each laid out
 * from the GENMASK_ULL macros of Linux's arm-smmu-v3.h and built from the emulator's own objects.
 */
import { splitAddress } from '../address';
import { NO_PASID } from '../domain/domain';
import { parseRid } from '../device/requester-id';
import { fail } from '../errors';
import type { PageRequest, ResponseCode } from '../fault/page-request';
import { PAGE_REQUEST_LAST_PAGE } from '../fault/page-request';
import { IOMMU_VIOMMU_TYPE } from '../iommufd/uapi';
import { PERM_EXEC, PERM_PRIV, PERM_READ, PERM_WRITE } from '../pagetable/permissions';
import {
  carryRecord,
  defineRecord,
  pageAddressValue,
  encodeRecord,
  type FieldSpec,
  type RecordLayout,
} from '../records/bit-layout';
import type { KernelProfile } from '../profile/kernel-profile';
import type { IommuCapabilities } from './capabilities';
import type { FaultKind } from './fault-kind';
import type { FaultRecord } from './fault-record';
import type { FamilyFaultCode, IommuFamilyModel, IntakeVerdict, WireResponse } from './family';

const EVENTS = {
  C_BAD_SUBSTREAMID: 0x08,
  C_BAD_CD: 0x0a,
  F_TRANSLATION: 0x10,
  F_ADDR_SIZE: 0x11,
  F_PERMISSION: 0x13,
} as const;

/**
 * Event IDs arm_smmu_handle_event forwards to a vIOMMU: C_BAD_STE, F_STREAM_DISABLED, C_BAD_SUBSTREAMID,
 * C_BAD_CD, F_TRANSLATION, F_ADDR_SIZE, F_ACCESS, F_PERMISSION.
 */
const VIOMMU_FORWARDED_EVENTS: ReadonlySet<number> = new Set([
  0x04, 0x06, 0x08, 0x0a, 0x10, 0x11, 0x12, 0x13,
]);

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

/**
 * PRI queue entries reach the iopf core only where the profile feeds them (the proposal), which drops a
 * Stop Marker as the iopf core requires of drivers. Elsewhere arm_smmu_handle_ppr logs "unexpected PRI
 * request" for every entry and answers CMD_PRI_RESP DENY when last, without looking at R/W: a Stop Marker
 * (L=1) is denied too, and the device sees a response for a PRG index it has no request outstanding for.
 */
function smmuIntake(request: PageRequest, profile: KernelProfile): IntakeVerdict {
  if (!profile.smmuPriAccepted) return 'pri-denied';
  return request.stopMarker ? 'drop' : 'report';
}

export const smmuv3Model: IommuFamilyModel = {
  family: 'smmuv3',
  label: 'Arm SMMUv3',
  defaults: SMMUV3_DEFAULTS,
  platformDevices: true,
  auxDomains: false,
  nestedAtPasid: false,
  identityAtPasid: false,
  stalls: true,
  attachWithoutIopf: true,
  // arm_smmu_domain_finalise: stage 1 whenever the SMMU has it (ARM_SMMU_FEAT_TRANS_S1).
  dmaDomainStage: () => 1,
  pteFormats: { stage1: 'arm-s1', stage2: 'arm-s2' },
  viommuTypes: [IOMMU_VIOMMU_TYPE.ARM_SMMUV3],
  // arm_smmu_handle_event: a non-stall event of these IDs goes to the vmaster if !event->s2.
  forwardsToViommu: (record) => record.stage !== 2 && VIOMMU_FORWARDED_EVENTS.has(record.code),
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
  iopfMissing(device, _iommu, profile) {
    if (device.stall && device.streamIds !== 1)
      return `stall needs exactly one StreamID, it has ${device.streamIds}`;
    if (device.pri !== null && !profile.smmuPriAccepted)
      return `SMMUv3 takes PRI only under the proposal profile, not ${profile.name}`;
    return 'neither stall nor PRI';
  },
  intake: smmuIntake,
  wireResponse: (code) => SMMU_WIRE[code],
  // v5.13 arm_smmu_handle_evt: "Nobody cared, abort the access", IOMMU_PAGE_RESP_FAILURE (CMD_RESUME ABORT).
  failedReportResponse: 'FAILURE',
  pageRequestRecord: (request) => carryRecord(SMMU_PRIQ_ENTRY, smmuPriqEntry(request)),
  pageResponseRecord: (request, code) =>
    carryRecord(
      SMMU_CMD_PRI_RESP,
      smmuCmdPriResp({
        sid: request.device.rid,
        ssid: request.pasid === NO_PASID ? null : request.pasid,
        grpid: request.grpid,
        resp: PRI_RESPONSE_OF[code],
      }),
    ),
  faultRecord: (record) => {
    const bytes = smmuEventRecord(record);
    return bytes === null ? null : carryRecord(smmuEventLayout(record.code), bytes);
  },
};

// ---------------------------------------------------------------------------------------------------------
// Byte-exact records (issue 14): what the SMMU writes and what the driver sends back
// ---------------------------------------------------------------------------------------------------------
//
// Every bit position is a GENMASK_ULL or (1UL << n) macro of drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h
// (the copy read: torvalds/linux @0401bbf5, plus EVTQ_3_FETCH_ADDR and the fetch event IDs of the ≈v6.15
// header that added struct arm_smmu_event). Queue entries are arrays of little-endian 64-bit words, so
// bit n of dword k is record bit 64·k + n. A field masked in place rather than FIELD_GET (EVTQ_3_IPA,
// PRIQ_1_ADDR_MASK) holds the address bits from its low bit up: the field's value is the address >> 12.

/** EVT_ID_* of arm-smmu-v3.h with the names the driver prints (event_str[] in arm-smmu-v3.c). */
export const SMMU_EVENT_NAMES: Readonly<Record<number, string>> = {
  0x02: 'C_BAD_STREAMID',
  0x03: 'F_STE_FETCH',
  0x04: 'C_BAD_STE',
  0x06: 'F_STREAM_DISABLED',
  0x08: 'C_BAD_SUBSTREAMID',
  0x09: 'F_CD_FETCH',
  0x0a: 'C_BAD_CD',
  0x10: 'F_TRANSLATION',
  0x11: 'F_ADDR_SIZE',
  0x12: 'F_ACCESS',
  0x13: 'F_PERMISSION',
  0x25: 'F_VMS_FETCH',
};

/** Events whose dword 3 is a fetch address: the ones arm_smmu_dump_event prints with fetch_addr. */
const FETCH_EVENTS: ReadonlySet<number> = new Set([0x03, 0x09, 0x25]);
/** Events the dump prints with iova, ipa, stag and the access bits of dword 1. */
const TRANSLATION_EVENTS: ReadonlySet<number> = new Set([0x10, 0x11, 0x12, 0x13]);

/** EVTQ_1_CLASS values, as event_class_str[] in arm-smmu-v3.c names them. */
const EVENT_CLASSES = {
  0: 'CD fetch',
  1: 'Stage 1 translation table fetch',
  2: 'Input address caused fault',
};
const CLASS_INPUT_ADDRESS = 2;

const EVENT_COMMON = {
  id: { bit: 0, width: 8, label: 'EVTQ_0_ID', values: SMMU_EVENT_NAMES },
  ssv: { bit: 11, width: 1, label: 'EVTQ_0_SSV' },
  ssid: { bit: 12, width: 20, label: 'EVTQ_0_SSID' },
  sid: { bit: 32, width: 32, label: 'EVTQ_0_SID' },
  stag: { bit: 64 + 0, width: 16, label: 'EVTQ_1_STAG' },
  stall: { bit: 64 + 31, width: 1, label: 'EVTQ_1_STALL' },
  pnu: { bit: 64 + 33, width: 1, label: 'EVTQ_1_PnU' },
  ind: { bit: 64 + 34, width: 1, label: 'EVTQ_1_InD' },
  rnw: { bit: 64 + 35, width: 1, label: 'EVTQ_1_RnW' },
  s2: { bit: 64 + 39, width: 1, label: 'EVTQ_1_S2' },
  class: { bit: 64 + 40, width: 2, label: 'EVTQ_1_CLASS', values: EVENT_CLASSES },
  ttRead: { bit: 64 + 44, width: 1, label: 'EVTQ_1_TT_READ' },
  addr: { bit: 128, width: 64, label: 'EVTQ_2_ADDR' },
} satisfies Record<string, FieldSpec>;

/**
 * The event queue entry (32 bytes, EVTQ_ENT_SZ_SHIFT 5) of a translation-related or configuration event:
 * dword 3 is the IPA, EVTQ_3_IPA GENMASK_ULL(51, 12), meaningful for a stage-2 fault.
 */
export const SMMU_EVENT_RECORD = defineRecord({
  id: 'smmuv3.event-record',
  title: 'SMMUv3 event queue entry',
  bytes: 32,
  source: 'drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h: EVTQ_0_* .. EVTQ_3_IPA',
  fields: { ...EVENT_COMMON, ipa: { bit: 192 + 12, width: 40, label: 'EVTQ_3_IPA (IPA[51:12])' } },
});

/**
 * The same entry for F_STE_FETCH, F_CD_FETCH and F_VMS_FETCH: dword 3 is the address whose fetch failed,
 * EVTQ_3_FETCH_ADDR GENMASK_ULL(51, 3). The header defines both masks over the same bits and the event ID
 * decides which one holds (arm_smmu_dump_event), so they are two layouts, not two fields.
 */
export const SMMU_EVENT_RECORD_FETCH = defineRecord({
  id: 'smmuv3.event-record.fetch',
  title: 'SMMUv3 event queue entry (fetch fault)',
  bytes: 32,
  source: 'drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h: EVTQ_0_* .. EVTQ_3_FETCH_ADDR',
  fields: {
    ...EVENT_COMMON,
    fetchAddr: { bit: 192 + 3, width: 49, label: 'EVTQ_3_FETCH_ADDR (addr[51:3])' },
  },
});

/** Which event-record layout an event ID uses (dword 3: IPA or fetch address). */
export function smmuEventLayout(eventId: number): RecordLayout {
  return FETCH_EVENTS.has(eventId) ? SMMU_EVENT_RECORD_FETCH : SMMU_EVENT_RECORD;
}

/** The PRI queue entry (16 bytes, PRIQ_ENT_SZ_SHIFT 4): a PCIe page request as the SMMU queues it. */
export const SMMU_PRIQ_ENTRY = defineRecord({
  id: 'smmuv3.priq-entry',
  title: 'SMMUv3 PRI queue entry',
  bytes: 16,
  source: 'drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h: PRIQ_0_*, PRIQ_1_*',
  fields: {
    sid: { bit: 0, width: 32, label: 'PRIQ_0_SID' },
    ssid: { bit: 32, width: 20, label: 'PRIQ_0_SSID' },
    permPriv: { bit: 58, width: 1, label: 'PRIQ_0_PERM_PRIV' },
    permExec: { bit: 59, width: 1, label: 'PRIQ_0_PERM_EXEC' },
    permRead: { bit: 60, width: 1, label: 'PRIQ_0_PERM_READ' },
    permWrite: { bit: 61, width: 1, label: 'PRIQ_0_PERM_WRITE' },
    prgLast: { bit: 62, width: 1, label: 'PRIQ_0_PRG_LAST' },
    ssidV: { bit: 63, width: 1, label: 'PRIQ_0_SSID_V' },
    prgIdx: { bit: 64 + 0, width: 9, label: 'PRIQ_1_PRG_IDX' },
    addr: { bit: 64 + 12, width: 52, label: 'PRIQ_1_ADDR_MASK (addr[63:12])' },
  },
});

/** CMDQ_OP_* of struct arm_smmu_cmdq_ent for the two commands laid out here. */
export const CMDQ_OP_PRI_RESP = 0x41;
export const CMDQ_OP_RESUME = 0x44;
const COMMAND_NAMES = { [CMDQ_OP_PRI_RESP]: 'CMD_PRI_RESP', [CMDQ_OP_RESUME]: 'CMD_RESUME' };

/** CMDQ_RESUME_0_RESP_TERM / _RETRY / _ABORT. */
export const RESUME_RESPONSES = { TERM: 0, RETRY: 1, ABORT: 2 } as const;
export type ResumeResponse = keyof typeof RESUME_RESPONSES;

/** enum pri_resp of arm-smmu-v3.h, named as the driver's response encoding names them (SMMU_WIRE). */
export const PRI_RESPONSES = { PRI_RESP_DENY: 0, PRI_RESP_FAIL: 1, PRI_RESP_SUCC: 2 } as const;
export type PriResponse = keyof typeof PRI_RESPONSES;

/** The iopf core's codes as the driver writes them into CMD_PRI_RESP (arm_smmu_page_response). */
const PRI_RESPONSE_OF: Record<ResponseCode, PriResponse> = {
  SUCCESS: 'PRI_RESP_SUCC',
  INVALID: 'PRI_RESP_DENY',
  FAILURE: 'PRI_RESP_FAIL',
};

const SMMU_WIRE: Record<ResponseCode, WireResponse> = {
  SUCCESS: { code: PRI_RESPONSES.PRI_RESP_SUCC, name: 'PRI_RESP_SUCC', device: 'Success' },
  INVALID: { code: PRI_RESPONSES.PRI_RESP_DENY, name: 'PRI_RESP_DENY', device: 'Invalid Request' },
  FAILURE: { code: PRI_RESPONSES.PRI_RESP_FAIL, name: 'PRI_RESP_FAIL', device: 'Response Failure' },
};

/** CMD_RESUME (16 bytes): resume or abort the stalled transaction with this stall tag. */
export const SMMU_CMD_RESUME = defineRecord({
  id: 'smmuv3.cmd-resume',
  title: 'SMMUv3 CMD_RESUME',
  bytes: 16,
  source: 'drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h: CMDQ_0_OP, CMDQ_RESUME_*',
  fields: {
    op: { bit: 0, width: 8, label: 'CMDQ_0_OP', values: COMMAND_NAMES },
    resp: { bit: 12, width: 2, label: 'CMDQ_RESUME_0_RESP', values: { 0: 'TERM', 1: 'RETRY', 2: 'ABORT' } },
    sid: { bit: 32, width: 32, label: 'CMDQ_RESUME_0_SID' },
    stag: { bit: 64 + 0, width: 16, label: 'CMDQ_RESUME_1_STAG' },
  },
});

/** CMD_PRI_RESP (16 bytes): the PRG response for a page request group. */
export const SMMU_CMD_PRI_RESP = defineRecord({
  id: 'smmuv3.cmd-pri-resp',
  title: 'SMMUv3 CMD_PRI_RESP',
  bytes: 16,
  source: 'drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h: CMDQ_0_OP, CMDQ_0_SSV, CMDQ_PRI_*',
  fields: {
    op: { bit: 0, width: 8, label: 'CMDQ_0_OP', values: COMMAND_NAMES },
    ssv: { bit: 11, width: 1, label: 'CMDQ_0_SSV' },
    ssid: { bit: 12, width: 20, label: 'CMDQ_PRI_0_SSID' },
    sid: { bit: 32, width: 32, label: 'CMDQ_PRI_0_SID' },
    grpid: { bit: 64 + 0, width: 9, label: 'CMDQ_PRI_1_GRPID' },
    resp: {
      bit: 64 + 12,
      width: 2,
      label: 'CMDQ_PRI_1_RESP',
      values: { 0: 'PRI_RESP_DENY', 1: 'PRI_RESP_FAIL', 2: 'PRI_RESP_SUCC' },
    },
  },
});

/**
 * The event record of a stall (a page request with transport 'stall'): Stall=1, STAG = the request's
 * grpid, the access bits arm_smmu_handle_event turns back into perm (RnW=1 unless WRITE, InD for EXEC,
 * PnU for PRIV), EVTQ_2_ADDR the faulting page's address, S2 and the IPA for a stage-2 fault. The request
 * keeps only the page, so the address is page-aligned (the SMMU writes the full input address). CLASS is
 * IN ("Input address caused fault"): the emulator does not tell a fault on a stage-1 table fetch from one
 * on the input address [?: modelling assumption].
 */
export function smmuEventRecord(stall: PageRequest): Uint8Array;
/**
 * The event record of an unrecoverable fault, or null when the SMMU wrote none (STE abort, or the event
 * queue was full). ID is the event ID this file's faultCode gave the record; for the translation-related
 * events the access bits, S2 and EVTQ_2_ADDR are filled; other events carry only ID, SSV/SSID and SID,
 * since the header is silent on what else they hold [?]. The record keeps no IPA, so dword 3 is 0.
 */
export function smmuEventRecord(fault: FaultRecord): Uint8Array | null;
export function smmuEventRecord(source: PageRequest | FaultRecord): Uint8Array | null {
  return 'transport' in source ? stallEventRecord(source) : faultEventRecord(source);
}

function stallEventRecord(request: PageRequest): Uint8Array {
  if (request.transport !== 'stall')
    fail('EINVAL', `page request ${request.seq} came over PCIe PRI, not from a stall event.`, {
      reason: 'transport',
    });
  const eventId = smmuv3Model.faultCode(request.kind, request.stage, false).code;
  const { perm } = request;
  return encodeRecord(SMMU_EVENT_RECORD, {
    id: eventId,
    ...substream(request.pasid === NO_PASID ? null : request.pasid),
    sid: request.device.rid,
    stag: request.grpid,
    stall: 1,
    pnu: flag(perm & PERM_PRIV),
    ind: flag(perm & PERM_EXEC),
    rnw: (perm & PERM_WRITE) === 0 ? 1 : 0,
    s2: request.stage === 2 ? 1 : 0,
    class: CLASS_INPUT_ADDRESS,
    addr: pageAddressValue(request.page),
    ipa: request.stage === 2 && request.stage2Page !== undefined ? request.stage2Page : 0,
  });
}

function faultEventRecord(record: FaultRecord): Uint8Array | null {
  if (record.family !== 'smmuv3')
    fail('EINVAL', `fault record of ${record.device} is a ${record.family} record, not SMMUv3.`, {
      reason: 'wrong-family',
    });
  if (!record.recorded || record.lost) return null;
  const common = { id: record.code, ...substream(record.pasid), sid: streamIdOf(record.rid) };
  if (!TRANSLATION_EVENTS.has(record.code)) return encodeRecord(smmuEventLayout(record.code), common);
  const address = splitAddress(record.address);
  return encodeRecord(SMMU_EVENT_RECORD, {
    ...common,
    pnu: record.privileged ? 1 : 0,
    ind: record.access === 'exec' ? 1 : 0,
    rnw: record.access === 'write' ? 0 : 1,
    s2: record.stage === 2 ? 1 : 0,
    class: CLASS_INPUT_ADDRESS,
    addr: pageAddressValue(address.page, address.offset),
  });
}

/** The PRI queue entry of a PCIe page request (a Stop Marker included: L=1, R=W=0). */
export function smmuPriqEntry(request: PageRequest): Uint8Array {
  if (request.transport !== 'pri')
    fail('EINVAL', `page request ${request.seq} came from a stall, not over PCIe PRI.`, {
      reason: 'transport',
    });
  const { perm } = request;
  const pasid = request.pasid === NO_PASID ? null : request.pasid;
  return encodeRecord(SMMU_PRIQ_ENTRY, {
    sid: request.device.rid,
    ssid: pasid ?? 0,
    permPriv: flag(perm & PERM_PRIV),
    permExec: flag(perm & PERM_EXEC),
    permRead: flag(perm & PERM_READ),
    permWrite: flag(perm & PERM_WRITE),
    prgLast: flag(request.flags & PAGE_REQUEST_LAST_PAGE),
    ssidV: pasid === null ? 0 : 1,
    prgIdx: request.grpid,
    addr: request.page,
  });
}

/**
 * arm_smmu_page_response: SUCCESS resumes with RETRY, INVALID and FAILURE with ABORT (TERM only for a code
 * outside the enum, which a ResponseCode cannot be).
 */
export function resumeResponseOf(code: ResponseCode): ResumeResponse {
  return code === 'SUCCESS' ? 'RETRY' : 'ABORT';
}

/** CMD_RESUME for a stall tag, `resp` the Linux response code the driver maps (resumeResponseOf). */
export function smmuCmdResume(command: { sid: number; stag: number; resp: ResponseCode }): Uint8Array {
  return encodeRecord(SMMU_CMD_RESUME, {
    op: CMDQ_OP_RESUME,
    resp: RESUME_RESPONSES[resumeResponseOf(command.resp)],
    sid: command.sid,
    stag: command.stag,
  });
}

/**
 * CMD_PRI_RESP for a page request group; `ssid` null for a request without PASID (CMDQ_0_SSV clear).
 * `resp` is the enum pri_resp value by name: the driver's response encoding (SMMU_WIRE) gives it.
 */
export function smmuCmdPriResp(command: {
  sid: number;
  ssid: number | null;
  grpid: number;
  resp: PriResponse;
}): Uint8Array {
  return encodeRecord(SMMU_CMD_PRI_RESP, {
    op: CMDQ_OP_PRI_RESP,
    ...substream(command.ssid),
    sid: command.sid,
    grpid: command.grpid,
    resp: PRI_RESPONSES[command.resp],
  });
}

/**
 * The StreamID of a fault record's requester: a platform device's `sid:N`, or a PCIe RID, which Linux
 * uses as the StreamID unchanged when the IORT/DT map is the identity [?: the emulator has no ID map].
 */
function streamIdOf(rid: string): number {
  const platform = /^sid:(\d+)$/.exec(rid);
  return platform ? Number(platform[1]) : parseRid(rid, 'pci');
}

function substream(pasid: number | null): { ssv: number; ssid: number } {
  return pasid === null ? { ssv: 0, ssid: 0 } : { ssv: 1, ssid: pasid };
}

function flag(bits: number): number {
  return bits === 0 ? 0 : 1;
}
