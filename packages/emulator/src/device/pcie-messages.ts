/**
 * The PCIe messages of PRI, byte for byte (issue 14; reference §5): the Page Request message a function
 * sends and the PRG Response message it gets back, each with the PASID TLP prefix when it carries one.
 *
 * These are TLPs, not memory records, and a TLP goes on the link most significant byte of each DW first
 * (byte 0 of a header is DW0 bits 31:24), while the record codec (records/bit-layout.ts) is little-endian.
 * So each message is a record of its DWs held as 32-bit numbers, each stored little-endian, with a field
 * at `32 * dw + bit` for the spec's DW bit numbering: the way a TLP header log register or a host-order
 * TLP buffer (pcileech's tlp.h) holds them (the tests check them in link order too:
 * testing/pcie-link-bytes.ts). The record holds the PASID TLP prefix DW (all zero when the message has none) and header DW1-DW3;
 * DW0 (Fmt 001b, Type Msg with its routing, TC, Length 0) is the same for every message of a kind and is
 * left out. This DW arrangement is the lab's own, labelled as such in each layout's source.
 *
 * Field places within the DWs:
 * - Page Request DW3 = page address [31:12] | PRG index [11:3] | L 2 | W 1 | R 0, DW2 = address [63:32]:
 *   Efinix PCIe controller guide, "Generating Page Request Messages" (addr1 = address [63:32]; addr0
 *   [31:12] address, [11:8] PRG index [8:5]; desc0 R, W, L, PRG index [4:0]), and the same 64 bits as
 *   Linux's RISC-V page request record payload (drivers/iommu/riscv/iommu-bits.h RISCV_IOMMU_PQ_PAYLOAD_R
 *   BIT(0), _W BIT(1), _L BIT(2), _PRGI GENMASK(11, 3), _ADDR GENMASK(63, 12), DW2 in bits 63:32).
 * - PRG Response DW2 = Destination ID [31:16] | Response Code [15:12] | PRG index [8:0]: Efinix guide,
 *   "Generating Page Response Message", and RISCV_IOMMU_CMD_ATS_PRGR_DST_ID GENMASK(63, 48), _RESP_CODE
 *   GENMASK(47, 44), _PRG_INDEX GENMASK(40, 32) (the payload's upper half is DW2).
 * - DW1 = Requester ID [31:16] | Tag [15:8] | Message Code [7:0] (pcileech tlp.h: Tag, RequesterID after
 *   the byte enables); message codes 0x04 Page Request, 0x05 PRG Response (ved-rivos/iommu-reference
 *   iommu_ats.h, PCIe §10.4.1, §10.4.2).
 * - PASID TLP prefix: byte 0 Fmt 100b Type 1 0001b (0x91), Privileged Mode Requested bit 23, Execute
 *   Requested bit 22, PASID [19:0] (PCIe §6.20 [spec~]: no source readable here states these places).
 */
import { NO_PASID } from '../domain/domain';
import { PAGE_REQUEST_LAST_PAGE, type PageRequest, type ResponseCode } from '../fault/page-request';
import { PERM_EXEC, PERM_PRIV, PERM_READ, PERM_WRITE } from '../pagetable/permissions';
import { defineRecord, encodeRecord } from '../records/bit-layout';

/** Fmt 100b (TLP prefix) with Type 1 0001b (End-End prefix, PASID) [spec~]. */
export const PASID_PREFIX_TYPE = 0x91;
export const PAGE_REQUEST_MESSAGE_CODE = 0x04;
export const PRG_RESPONSE_MESSAGE_CODE = 0x05;

/** PRG Response codes (PCIe §10.4.2; 0010b-1110b unused, read by the function as Response Failure). */
export const PRG_RESPONSE_SUCCESS = 0x0;
export const PRG_RESPONSE_INVALID_REQUEST = 0x1;
export const PRG_RESPONSE_FAILURE = 0xf;

/** Linux's answer as the PRG response code it stands for (reference §1: SUCCESS, INVALID, FAILURE). */
export const PCIE_RESPONSE_CODE: Readonly<Record<ResponseCode, number>> = {
  SUCCESS: PRG_RESPONSE_SUCCESS,
  INVALID: PRG_RESPONSE_INVALID_REQUEST,
  FAILURE: PRG_RESPONSE_FAILURE,
};

const PASID_PREFIX_FIELDS = {
  prefixType: {
    bit: 24,
    width: 8,
    label: 'PASID prefix Fmt/Type',
    values: { 0: 'no PASID TLP prefix', [PASID_PREFIX_TYPE]: 'PASID TLP prefix' },
  },
  privilegedModeRequested: { bit: 23, width: 1, label: 'Privileged Mode Requested' },
  executeRequested: { bit: 22, width: 1, label: 'Execute Requested' },
  pasid: { bit: 0, width: 20, label: 'PASID' },
} as const;

const DW1_BIT = 32;
const DW2_BIT = 64;
const DW3_BIT = 96;

const LAB_LAYOUT =
  "lab layout: PASID TLP prefix DW then header DW1-DW3, each DW a little-endian 32-bit number in the spec's DW bit numbering (DW0 left out)";

export const PCIE_PAGE_REQUEST = defineRecord({
  id: 'pcie.page-request',
  title: 'PCIe Page Request message',
  bytes: 16,
  source:
    `${LAB_LAYOUT}; PCIe §10.4.1 fields at the places of the Efinix PCIe controller guide (Generating Page ` +
    'Request Messages) and Linux drivers/iommu/riscv/iommu-bits.h RISCV_IOMMU_PQ_PAYLOAD_* (DW2:DW3); ' +
    'PASID prefix bits PCIe §6.20 [spec~]',
  fields: {
    ...PASID_PREFIX_FIELDS,
    messageCode: {
      bit: DW1_BIT,
      width: 8,
      label: 'Message Code',
      values: { [PAGE_REQUEST_MESSAGE_CODE]: 'Page Request' },
    },
    tag: { bit: DW1_BIT + 8, width: 8, label: 'Tag' },
    requesterId: { bit: DW1_BIT + 16, width: 16, label: 'Requester ID' },
    pageAddressHigh: { bit: DW2_BIT, width: 32, label: 'Page Address [63:32]' },
    read: { bit: DW3_BIT, width: 1, label: 'R' },
    write: { bit: DW3_BIT + 1, width: 1, label: 'W' },
    last: { bit: DW3_BIT + 2, width: 1, label: 'L' },
    prgIndex: { bit: DW3_BIT + 3, width: 9, label: 'Page Request Group Index' },
    pageAddressLow: { bit: DW3_BIT + 12, width: 20, label: 'Page Address [31:12]' },
  },
});

export const PCIE_PRG_RESPONSE = defineRecord({
  id: 'pcie.prg-response',
  title: 'PCIe PRG Response message',
  bytes: 16,
  source:
    `${LAB_LAYOUT}; PCIe §10.4.2 fields at the places of the Efinix PCIe controller guide (Generating Page ` +
    'Response Message) and Linux drivers/iommu/riscv/iommu-bits.h RISCV_IOMMU_CMD_ATS_PRGR_* (DW2); ' +
    'PASID prefix bits PCIe §6.20 [spec~]',
  fields: {
    ...PASID_PREFIX_FIELDS,
    messageCode: {
      bit: DW1_BIT,
      width: 8,
      label: 'Message Code',
      values: { [PRG_RESPONSE_MESSAGE_CODE]: 'PRG Response' },
    },
    tag: { bit: DW1_BIT + 8, width: 8, label: 'Tag' },
    /** The root port that answers; the model has no ID for it, so 0. */
    requesterId: { bit: DW1_BIT + 16, width: 16, label: 'Requester ID' },
    prgIndex: { bit: DW2_BIT, width: 9, label: 'Page Request Group Index' },
    responseCode: {
      bit: DW2_BIT + 12,
      width: 4,
      label: 'Response Code',
      values: {
        [PRG_RESPONSE_SUCCESS]: 'Success',
        [PRG_RESPONSE_INVALID_REQUEST]: 'Invalid Request',
        0x2: 'unused (read as Response Failure)',
        [PRG_RESPONSE_FAILURE]: 'Response Failure',
      },
    },
    destinationId: { bit: DW2_BIT + 16, width: 16, label: 'Destination Device ID' },
  },
});

/**
 * The Page Request message the device sends for this request: Requester ID from the device, the page
 * address split as the message carries it, the PASID prefix only with a PASID (its Execute and
 * Privileged bits from the request's EXEC and PRIV). A Stop Marker comes out as L=1, R=W=0.
 */
export function pciePageRequest(request: PageRequest): Uint8Array {
  const present = request.pasid !== NO_PASID;
  return encodeRecord(PCIE_PAGE_REQUEST, {
    prefixType: present ? PASID_PREFIX_TYPE : 0,
    privilegedModeRequested: present ? bit(request.perm, PERM_PRIV) : 0,
    executeRequested: present ? bit(request.perm, PERM_EXEC) : 0,
    pasid: present ? request.pasid : 0,
    messageCode: PAGE_REQUEST_MESSAGE_CODE,
    requesterId: request.device.rid,
    pageAddressHigh: Math.floor(request.page / 2 ** 20),
    read: bit(request.perm, PERM_READ),
    write: bit(request.perm, PERM_WRITE),
    last: bit(request.flags, PAGE_REQUEST_LAST_PAGE),
    prgIndex: request.grpid,
    pageAddressLow: request.page % 2 ** 20,
  });
}

export interface PciePrgResponseInput {
  /** The function answered: the message's Destination Device ID. */
  rid: number;
  /** The PASID to carry (when the function has "PRG Response PASID Required"), else NO_PASID (-1). */
  pasid: number;
  grpid: number;
  /** Linux's answer, sent as the PCIe code it stands for (FAILURE as Response Failure 1111b). */
  code: ResponseCode;
}

/** The PRG Response message the root complex sends; the PASID prefix's Execute/Privileged bits are 0. */
export function pciePrgResponse(input: PciePrgResponseInput): Uint8Array {
  const present = input.pasid !== NO_PASID;
  return encodeRecord(PCIE_PRG_RESPONSE, {
    prefixType: present ? PASID_PREFIX_TYPE : 0,
    pasid: present ? input.pasid : 0,
    messageCode: PRG_RESPONSE_MESSAGE_CODE,
    prgIndex: input.grpid,
    responseCode: PCIE_RESPONSE_CODE[input.code],
    destinationId: input.rid,
  });
}

function bit(value: number, mask: number): number {
  return (value & mask) !== 0 ? 1 : 0;
}
