import { describe, expect, it } from 'vitest';
import {
  PAGE_REQUEST_LAST_PAGE,
  PAGE_REQUEST_PASID_VALID,
  blankPageRequest,
  type PageRequest,
} from '../fault/page-request';
import { PERM_EXEC, PERM_PRIV, PERM_READ, PERM_WRITE } from '../pagetable/permissions';
import { decodeRecord, encodeRecord, toHex, type FieldSpec, type RecordLayout } from '../records/bit-layout';
import { pcieLinkBytes } from '../testing/pcie-link-bytes';
import { recordView } from '../testing/record-view';
import { PRI_DEVICE, systemWith } from '../testing/fixtures';
import { PCIE_PAGE_REQUEST, PCIE_PRG_RESPONSE, pciePageRequest, pciePrgResponse } from './pcie-messages';

const RID = (0x3a << 8) | (0x1f << 3) | 5; // 3a:1f.5

/** Header DW n of the record (DW0 of the record is the PASID prefix), as a 32-bit number. */
function dw(bytes: Uint8Array, n: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(4 * n, true);
}

/** DW2:DW3 as one 64-bit payload, DW2 in bits 63:32, the way the RISC-V IOMMU carries a PRI message. */
function payload(bytes: Uint8Array): bigint {
  return (BigInt(dw(bytes, 2)) << 32n) | BigInt(dw(bytes, 3));
}

const GENMASK_ULL = (h: number, l: number) => ((1n << BigInt(h - l + 1)) - 1n) << BigInt(l);
const BIT_ULL = (n: number) => 1n << BigInt(n);
/** FIELD_PREP(mask, value), include/linux/bitfield.h. */
function FIELD_PREP(mask: bigint, value: number | bigint): bigint {
  let shift = 0n;
  while (((mask >> shift) & 1n) === 0n) shift++;
  return (BigInt(value) << shift) & mask;
}

function roundTrips(layout: RecordLayout) {
  const widest: Record<string, bigint> = {};
  const pattern: Record<string, bigint> = {};
  for (const [name, field] of Object.entries<FieldSpec>(layout.fields)) {
    widest[name] = (1n << BigInt(field.width)) - 1n;
    pattern[name] = 0x5a5a5a5an & widest[name];
  }
  expect(decodeRecord(layout, encodeRecord(layout, widest))).toEqual(widest);
  expect(decodeRecord(layout, encodeRecord(layout, pattern))).toEqual(pattern);
}

function pciSystem() {
  return systemWith('vtd', 'mainline', [{ id: 'nic0', rid: '3a:1f.5', ...PRI_DEVICE }]);
}

function request(fields: Partial<PageRequest>): PageRequest {
  return { ...blankPageRequest(), pooled: false, device: pciSystem().device('nic0'), ...fields };
}

describe('PCIe PRI messages: each layout round-trips every field', () => {
  it('Page Request and PRG Response decode to what was encoded', () => {
    roundTrips(PCIE_PAGE_REQUEST);
    roundTrips(PCIE_PRG_RESPONSE);
  });
});

describe('Page Request message (PCIe §10.4.1) from a real PageRequest', () => {
  const page = 0x7f0000123;

  it('DW2:DW3 is the payload Linux reads with RISCV_IOMMU_PQ_PAYLOAD_* (R 0, W 1, L 2, PRGI 11:3, ADDR 63:12)', () => {
    const bytes = pciePageRequest(
      request({
        pasid: 0xabcde,
        page,
        perm: PERM_READ | PERM_WRITE,
        grpid: 0x1a5,
        flags: PAGE_REQUEST_PASID_VALID | PAGE_REQUEST_LAST_PAGE,
      }),
    );
    // drivers/iommu/riscv/iommu-bits.h:
    //   #define RISCV_IOMMU_PQ_PAYLOAD_R    BIT_ULL(0)
    //   #define RISCV_IOMMU_PQ_PAYLOAD_W    BIT_ULL(1)
    //   #define RISCV_IOMMU_PQ_PAYLOAD_L    BIT_ULL(2)
    //   #define RISCV_IOMMU_PQ_PAYLOAD_PRGI GENMASK_ULL(11, 3) /* Page Request Group Index */
    //   #define RISCV_IOMMU_PQ_PAYLOAD_ADDR GENMASK_ULL(63, 12)
    const expected =
      BIT_ULL(0) |
      BIT_ULL(1) |
      BIT_ULL(2) |
      FIELD_PREP(GENMASK_ULL(11, 3), 0x1a5) |
      FIELD_PREP(GENMASK_ULL(63, 12), page);
    expect(payload(bytes)).toBe(expected);
    // DW1: Requester ID [31:16], Tag [15:8], Message Code [7:0] = 0000 0100b (Page Request).
    expect(dw(bytes, 1)).toBe(((RID << 16) | 0x04) >>> 0);
  });

  it('the PASID prefix carries PASID [19:0], Execute Requested (22) and Privileged Mode Requested (23)', () => {
    const plain = pciePageRequest(
      request({ pasid: 0xabcde, perm: PERM_READ, flags: PAGE_REQUEST_PASID_VALID }),
    );
    expect(dw(plain, 0)).toBe(((0x91 << 24) | 0xabcde) >>> 0);
    const privExec = pciePageRequest(
      request({ pasid: 1, perm: PERM_EXEC | PERM_PRIV, flags: PAGE_REQUEST_PASID_VALID }),
    );
    expect(dw(privExec, 0)).toBe(((0x91 << 24) | (1 << 23) | (1 << 22) | 1) >>> 0);
  });

  it('a request without PASID has no PASID TLP prefix: its DW is zero and the link bytes leave it out', () => {
    const bytes = pciePageRequest(
      request({ pasid: -1, page, perm: PERM_WRITE, flags: PAGE_REQUEST_LAST_PAGE }),
    );
    expect(dw(bytes, 0)).toBe(0);
    expect(recordView(PCIE_PAGE_REQUEST, bytes).fields.find((f) => f.name === 'prefixType')!.meaning).toBe(
      'no PASID TLP prefix',
    );
    const link = pcieLinkBytes(PCIE_PAGE_REQUEST, bytes);
    expect(link).toHaveLength(12);
    // On the link each DW goes most significant byte first: Requester ID, Tag, Message Code, then the address.
    expect(toHex(link)).toBe('3afd0004' + '00007f00' + '00123006');
  });

  it('with a prefix the link bytes start with it: 0x91, then the PASID', () => {
    const bytes = pciePageRequest(
      request({ pasid: 0x12345, page, perm: PERM_READ, flags: PAGE_REQUEST_PASID_VALID }),
    );
    const link = pcieLinkBytes(PCIE_PAGE_REQUEST, bytes);
    expect(link).toHaveLength(16);
    expect(toHex(link.subarray(0, 4))).toBe('91012345');
  });

  it('a Stop Marker is L=1, R=W=0 with a PASID prefix', () => {
    const bytes = pciePageRequest(
      request({
        pasid: 7,
        page: 0,
        perm: 0,
        flags: PAGE_REQUEST_PASID_VALID | PAGE_REQUEST_LAST_PAGE,
        stopMarker: true,
      }),
    );
    expect(decodeRecord(PCIE_PAGE_REQUEST, bytes)).toMatchObject({
      last: 1n,
      read: 0n,
      write: 0n,
      prefixType: 0x91n,
      pasid: 7n,
    });
  });
});

describe('PRG Response message (PCIe §10.4.2)', () => {
  // drivers/iommu/riscv/iommu-bits.h, the ATS.PRGR payload (DW2 in its upper half):
  //   #define RISCV_IOMMU_CMD_ATS_PRGR_PRG_INDEX GENMASK_ULL(40, 32)
  //   #define RISCV_IOMMU_CMD_ATS_PRGR_RESP_CODE GENMASK_ULL(47, 44)
  //   #define RISCV_IOMMU_CMD_ATS_PRGR_DST_ID    GENMASK_ULL(63, 48)
  // built in drivers/iommu/riscv/iommu.c riscv_iommu_ats_prgr_payload():
  //   FIELD_PREP(RISCV_IOMMU_CMD_ATS_PRGR_DST_ID, dest_id) | FIELD_PREP(..._RESP_CODE, resp_code) | FIELD_PREP(..._PRG_INDEX, grp_idx)
  const prgr = (dest: number, code: number, index: number) =>
    FIELD_PREP(GENMASK_ULL(63, 48), dest) |
    FIELD_PREP(GENMASK_ULL(47, 44), code) |
    FIELD_PREP(GENMASK_ULL(40, 32), index);

  it('Linux SUCCESS, INVALID and FAILURE go out as Success 0000b, Invalid Request 0001b and Response Failure 1111b', () => {
    const sent = { SUCCESS: 0x0, INVALID: 0x1, FAILURE: 0xf } as const;
    for (const code of ['SUCCESS', 'INVALID', 'FAILURE'] as const) {
      const bytes = pciePrgResponse({ rid: RID, pasid: -1, grpid: 0x1ff, code });
      expect(payload(bytes)).toBe(prgr(RID, sent[code], 0x1ff));
      expect(dw(bytes, 1)).toBe(0x05); // Message Code PRG Response; the root port's Requester ID is 0 here
    }
  });

  it('the PASID goes in a prefix only when given ("PRG Response PASID Required")', () => {
    const withPasid = pciePrgResponse({ rid: RID, pasid: 0x42, grpid: 3, code: 'SUCCESS' });
    expect(dw(withPasid, 0)).toBe(((0x91 << 24) | 0x42) >>> 0);
    const without = pciePrgResponse({ rid: RID, pasid: -1, grpid: 3, code: 'SUCCESS' });
    expect(dw(without, 0)).toBe(0);
    expect(pcieLinkBytes(PCIE_PRG_RESPONSE, without)).toHaveLength(12);
  });

  it('shows the Response Code field at DW2 [15:12] with the name of the code sent', () => {
    const view = recordView(
      PCIE_PRG_RESPONSE,
      pciePrgResponse({ rid: RID, pasid: -1, grpid: 0, code: 'FAILURE' }),
    );
    expect(view.fields.find((f) => f.name === 'responseCode')).toMatchObject({
      value: 0xf,
      meaning: 'Response Failure',
      bit: 64 + 12,
      width: 4,
    });
  });
});
