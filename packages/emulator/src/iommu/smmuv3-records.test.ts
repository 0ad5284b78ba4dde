import { describe, expect, it } from 'vitest';
import {
  PAGE_REQUEST_LAST_PAGE,
  PAGE_REQUEST_PASID_VALID,
  type PageRequest,
  blankPageRequest,
} from '../fault/page-request';
import { PERM_EXEC, PERM_PRIV, PERM_READ, PERM_WRITE } from '../pagetable/permissions';
import { decodeRecord, encodeRecord } from '../records/bit-layout';
import { recordView } from '../testing/record-view';
import { USER_BASE, systemWith } from '../testing/fixtures';
import type { FaultRecord } from './fault-record';
import {
  SMMU_CMD_PRI_RESP,
  SMMU_CMD_RESUME,
  SMMU_EVENT_RECORD,
  SMMU_EVENT_RECORD_FETCH,
  SMMU_PRIQ_ENTRY,
  smmuCmdPriResp,
  smmuCmdResume,
  smmuEventLayout,
  smmuEventRecord,
  smmuPriqEntry,
} from './smmuv3';
import { refusal } from '../testing/refusal';

// The kernel's macros, transcribed to BigInt (include/linux/bits.h, include/linux/bitfield.h), so the
// expected words below are computed the way the driver computes them, not by the codec under test.
const BIT = (n: number): bigint => 1n << BigInt(n);
const GENMASK_ULL = (high: number, low: number): bigint =>
  ((1n << BigInt(high - low + 1)) - 1n) << BigInt(low);
/** FIELD_PREP(mask, value): value shifted to the mask's lowest set bit, masked. */
const FIELD_PREP = (mask: bigint, value: number | bigint): bigint => {
  let shift = 0n;
  while (((mask >> shift) & 1n) === 0n) shift++;
  return (BigInt(value) << shift) & mask;
};

/** The record as the driver reads it: little-endian u64 dwords. */
function dwords(bytes: Uint8Array): bigint[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 8 }, (_, i) => view.getBigUint64(8 * i, true));
}

function platformSystem() {
  return systemWith('smmuv3', 'mainline', [
    { id: 'acc', kind: 'platform', stall: true, pasidBits: 8, rid: 0x42 },
  ]);
}

function stallRequest(fill: Partial<PageRequest>): PageRequest {
  return Object.assign(blankPageRequest(), { transport: 'stall', pooled: false }, fill);
}

describe('SMMUv3 event record: the bits of arm-smmu-v3.h EVTQ_*', () => {
  it('a stall event carries Stall=1, STAG = grpid and the access bits, as the driver macros place them', () => {
    const s = platformSystem();
    const request = stallRequest({
      device: s.device('acc'),
      pasid: 5,
      page: USER_BASE / 4096 + 3,
      perm: PERM_WRITE | PERM_PRIV,
      grpid: 0xbeef,
      flags: PAGE_REQUEST_LAST_PAGE | PAGE_REQUEST_PASID_VALID,
      kind: 'translation',
    });
    const [dw0, dw1, dw2, dw3] = dwords(smmuEventRecord(request));
    // arm-smmu-v3.h: EVTQ_0_ID GENMASK_ULL(7, 0), EVTQ_0_SSV (1UL << 11), EVTQ_0_SSID GENMASK_ULL(31, 12),
    // EVTQ_0_SID GENMASK_ULL(63, 32); EVT_ID_TRANSLATION_FAULT 0x10.
    expect(dw0).toBe(
      FIELD_PREP(GENMASK_ULL(7, 0), 0x10) |
        BIT(11) |
        FIELD_PREP(GENMASK_ULL(31, 12), 5) |
        FIELD_PREP(GENMASK_ULL(63, 32), 0x42),
    );
    // EVTQ_1_STAG GENMASK_ULL(15, 0), EVTQ_1_STALL (1UL << 31), EVTQ_1_PnU (1UL << 33), EVTQ_1_RnW (1UL << 35)
    // clear for a write, EVTQ_1_CLASS GENMASK_ULL(41, 40) = 2 ("Input address caused fault").
    expect(dw1).toBe(
      FIELD_PREP(GENMASK_ULL(15, 0), 0xbeef) | BIT(31) | BIT(33) | FIELD_PREP(GENMASK_ULL(41, 40), 2),
    );
    // EVTQ_2_ADDR GENMASK_ULL(63, 0): the faulting address (page-aligned: the request keeps the page).
    expect(dw2).toBe(BigInt(USER_BASE + 3 * 4096));
    expect(dw3).toBe(0n);
  });

  it('reads back as the driver turns it into a page request (RnW → READ, InD → EXEC, PnU → PRIV)', () => {
    const s = platformSystem();
    const request = stallRequest({ device: s.device('acc'), perm: PERM_READ | PERM_EXEC, grpid: 7 });
    const fields = decodeRecord(SMMU_EVENT_RECORD, smmuEventRecord(request));
    expect(fields).toMatchObject({
      stall: 1n,
      stag: 7n,
      rnw: 1n,
      ind: 1n,
      pnu: 0n,
      ssv: 0n,
      ssid: 0n,
      sid: 0x42n,
    });
  });

  it('a stage-2 stall sets S2 and puts the IPA in EVTQ_3_IPA GENMASK_ULL(51, 12)', () => {
    const s = platformSystem();
    const request = stallRequest({
      device: s.device('acc'),
      perm: PERM_READ,
      stage: 2,
      stage2Page: 0x8_1234,
    });
    const [, dw1, , dw3] = dwords(smmuEventRecord(request));
    expect(dw1! & BIT(39)).toBe(BIT(39)); // EVTQ_1_S2 (1UL << 39)
    expect(dw3).toBe(BigInt(0x8_1234 * 4096) & GENMASK_ULL(51, 12)); // raw[3] & EVTQ_3_IPA
  });

  it('an unrecoverable fault becomes a record with Stall=0 and the event ID the family model gave it', () => {
    const s = systemWith('smmuv3', 'mainline', [{ id: 'plain', kind: 'platform', rid: 9 }]);
    s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
    s.attach('plain', 'd');
    const tx = s.dma({ device: 'plain', address: '0x5008', length: 8, access: 'read' });
    s.runUntilIdle();
    const record = tx.fault!;
    expect(record.codeName).toBe('F_TRANSLATION');
    const [dw0, dw1, dw2] = dwords(smmuEventRecord(record)!);
    expect(dw0).toBe(FIELD_PREP(GENMASK_ULL(7, 0), 0x10) | FIELD_PREP(GENMASK_ULL(63, 32), 9));
    expect(dw1).toBe(BIT(35) | FIELD_PREP(GENMASK_ULL(41, 40), 2)); // RnW for a read, no STALL
    expect(dw2).toBe(0x5008n);
  });

  it('writes nothing when the SMMU records nothing (STE abort) or lost the event', () => {
    const s = systemWith('smmuv3', 'mainline', [{ id: 'plain', kind: 'platform' }]);
    const tx = s.dma({ device: 'plain', address: '0x0', length: 8, access: 'read' });
    s.runUntilIdle();
    expect(tx.fault).toMatchObject({ recorded: false });
    expect(smmuEventRecord(tx.fault!)).toBeNull();
    const lost: FaultRecord = { ...tx.fault!, recorded: true, lost: true, code: 0x10 };
    expect(smmuEventRecord(lost)).toBeNull();
  });

  it('a configuration event (C_BAD_CD) carries ID, SSID and SID only; a PCIe RID is the StreamID', () => {
    const record = {
      family: 'smmuv3',
      rid: '00:03.1',
      pasid: 7,
      code: 0x0a,
      recorded: true,
      lost: false,
    } as FaultRecord;
    const [dw0, dw1, dw2, dw3] = dwords(smmuEventRecord(record)!);
    expect(dw0).toBe(
      0x0an | BIT(11) | FIELD_PREP(GENMASK_ULL(31, 12), 7) | FIELD_PREP(GENMASK_ULL(63, 32), 0x19),
    );
    expect([dw1, dw2, dw3]).toEqual([0n, 0n, 0n]);
  });

  it('fetch events use EVTQ_3_FETCH_ADDR GENMASK_ULL(51, 3), the others EVTQ_3_IPA: the event ID decides', () => {
    expect(smmuEventLayout(0x09)).toBe(SMMU_EVENT_RECORD_FETCH); // F_CD_FETCH
    expect(smmuEventLayout(0x10)).toBe(SMMU_EVENT_RECORD);
    const fetch = 0x8000_1238n;
    const [, , , dw3] = dwords(encodeRecord(SMMU_EVENT_RECORD_FETCH, { id: 0x09, fetchAddr: fetch >> 3n }));
    expect(dw3).toBe(fetch & GENMASK_ULL(51, 3));
  });

  it('refuses a VT-d record and a page request that came over PRI', () => {
    expect(refusal(() => smmuEventRecord({ family: 'vtd' } as FaultRecord)).reason).toBe('wrong-family');
    const s = platformSystem();
    expect(
      refusal(() => smmuEventRecord(stallRequest({ device: s.device('acc'), transport: 'pri' }))).reason,
    ).toBe('transport');
  });
});

describe('SMMUv3 PRI queue entry: PRIQ_0_* / PRIQ_1_*', () => {
  it('a page request lands at the PRIQ macros bit for bit', () => {
    const s = systemWith('smmuv3', 'proposal', [
      { id: 'nic', ats: true, pri: { capacity: 32 }, pasidBits: 20, rid: 0x0100 },
    ]);
    const request = Object.assign(blankPageRequest(), {
      device: s.device('nic'),
      pasid: 0xabcde,
      page: 0x7f00_0000_0123,
      perm: PERM_READ | PERM_WRITE | PERM_PRIV,
      grpid: 0x1ff,
      flags: PAGE_REQUEST_LAST_PAGE | PAGE_REQUEST_PASID_VALID,
      transport: 'pri' as const,
    });
    const [dw0, dw1] = dwords(smmuPriqEntry(request));
    // PRIQ_0_SID GENMASK_ULL(31, 0), PRIQ_0_SSID GENMASK_ULL(51, 32), PRIQ_0_PERM_PRIV (1UL << 58),
    // PRIQ_0_PERM_READ (1UL << 60), PRIQ_0_PERM_WRITE (1UL << 61), PRIQ_0_PRG_LAST (1UL << 62),
    // PRIQ_0_SSID_V (1UL << 63).
    expect(dw0).toBe(
      FIELD_PREP(GENMASK_ULL(31, 0), 0x0100) |
        FIELD_PREP(GENMASK_ULL(51, 32), 0xabcde) |
        BIT(58) |
        BIT(60) |
        BIT(61) |
        BIT(62) |
        BIT(63),
    );
    // PRIQ_1_PRG_IDX GENMASK_ULL(8, 0); PRIQ_1_ADDR_MASK GENMASK_ULL(63, 12), the address masked in place.
    expect(dw1).toBe(
      FIELD_PREP(GENMASK_ULL(8, 0), 0x1ff) | ((BigInt(0x7f00_0000_0123) * 4096n) & GENMASK_ULL(63, 12)),
    );
  });

  it('a Stop Marker has L=1 and neither R nor W; a request without PASID clears SSID_V', () => {
    const s = systemWith('smmuv3', 'proposal', [
      { id: 'nic', ats: true, pri: { capacity: 32 }, pasidBits: 20 },
    ]);
    const stop = Object.assign(blankPageRequest(), {
      device: s.device('nic'),
      pasid: 3,
      flags: PAGE_REQUEST_LAST_PAGE,
      stopMarker: true,
    });
    expect(decodeRecord(SMMU_PRIQ_ENTRY, smmuPriqEntry(stop))).toMatchObject({
      prgLast: 1n,
      permRead: 0n,
      permWrite: 0n,
      ssidV: 1n,
    });
    const noPasid = Object.assign(blankPageRequest(), { device: s.device('nic'), perm: PERM_READ });
    expect(decodeRecord(SMMU_PRIQ_ENTRY, smmuPriqEntry(noPasid))).toMatchObject({ ssidV: 0n, ssid: 0n });
    expect(refusal(() => smmuPriqEntry({ ...noPasid, transport: 'stall' })).reason).toBe('transport');
  });
});

describe('SMMUv3 commands: CMD_RESUME (0x44) and CMD_PRI_RESP (0x41)', () => {
  it('CMD_RESUME maps the Linux code as arm_smmu_page_response does: SUCCESS → RETRY, else ABORT', () => {
    // arm-smmu-v3.c arm_smmu_cmdq_build_cmd, case CMDQ_OP_RESUME: FIELD_PREP(CMDQ_RESUME_0_SID, sid),
    // FIELD_PREP(CMDQ_RESUME_0_RESP, resp) with CMDQ_RESUME_0_RESP GENMASK_ULL(13, 12), RETRY 1UL, ABORT 2UL;
    // cmd[1] FIELD_PREP(CMDQ_RESUME_1_STAG, stag), GENMASK_ULL(15, 0). CMDQ_0_OP GENMASK_ULL(7, 0).
    const expected = (resp: bigint) => [
      FIELD_PREP(GENMASK_ULL(7, 0), 0x44) |
        FIELD_PREP(GENMASK_ULL(13, 12), resp) |
        FIELD_PREP(GENMASK_ULL(63, 32), 0x42),
      FIELD_PREP(GENMASK_ULL(15, 0), 0xbeef),
    ];
    expect(dwords(smmuCmdResume({ sid: 0x42, stag: 0xbeef, resp: 'SUCCESS' }))).toEqual(expected(1n));
    expect(dwords(smmuCmdResume({ sid: 0x42, stag: 0xbeef, resp: 'INVALID' }))).toEqual(expected(2n));
    expect(dwords(smmuCmdResume({ sid: 0x42, stag: 0xbeef, resp: 'FAILURE' }))).toEqual(expected(2n));
    expect(
      recordView(SMMU_CMD_RESUME, smmuCmdResume({ sid: 1, stag: 2, resp: 'SUCCESS' })).fields[0],
    ).toMatchObject({
      label: 'CMDQ_0_OP',
      meaning: 'CMD_RESUME',
    });
  });

  it('CMD_PRI_RESP sets SSV only with a PASID and the pri_resp value in CMDQ_PRI_1_RESP', () => {
    // case CMDQ_OP_PRI_RESP: FIELD_PREP(CMDQ_0_SSV, ssv) (1UL << 11), CMDQ_PRI_0_SSID GENMASK_ULL(31, 12),
    // CMDQ_PRI_0_SID GENMASK_ULL(63, 32); CMDQ_PRI_1_GRPID GENMASK_ULL(8, 0), CMDQ_PRI_1_RESP GENMASK_ULL(13, 12);
    // enum pri_resp: DENY 0, FAIL 1, SUCC 2.
    const withPasid = smmuCmdPriResp({ sid: 0x100, ssid: 0x12345, grpid: 0x1a5, resp: 'PRI_RESP_SUCC' });
    expect(dwords(withPasid)).toEqual([
      FIELD_PREP(GENMASK_ULL(7, 0), 0x41) |
        BIT(11) |
        FIELD_PREP(GENMASK_ULL(31, 12), 0x12345) |
        FIELD_PREP(GENMASK_ULL(63, 32), 0x100),
      FIELD_PREP(GENMASK_ULL(8, 0), 0x1a5) | FIELD_PREP(GENMASK_ULL(13, 12), 2),
    ]);
    const denied = decodeRecord(
      SMMU_CMD_PRI_RESP,
      smmuCmdPriResp({ sid: 1, ssid: null, grpid: 3, resp: 'PRI_RESP_DENY' }),
    );
    expect(denied).toMatchObject({ op: 0x41n, ssv: 0n, ssid: 0n, resp: 0n });
  });

  it('every layout round-trips its fields and is the size the header gives (EVTQ 32 B, PRIQ and CMDQ 16 B)', () => {
    expect([SMMU_EVENT_RECORD.bytes, SMMU_EVENT_RECORD_FETCH.bytes]).toEqual([32, 32]); // EVTQ_ENT_SZ_SHIFT 5
    expect([SMMU_PRIQ_ENTRY.bytes, SMMU_CMD_RESUME.bytes, SMMU_CMD_PRI_RESP.bytes]).toEqual([16, 16, 16]);
    const event = {
      id: 0x13n,
      ssv: 1n,
      ssid: 0xfffffn,
      sid: 0xffffffffn,
      stag: 0xffffn,
      stall: 1n,
      pnu: 1n,
      ind: 1n,
      rnw: 1n,
      s2: 1n,
      class: 3n,
      ttRead: 1n,
      addr: 2n ** 64n - 1n,
      ipa: 2n ** 40n - 1n,
    };
    expect(decodeRecord(SMMU_EVENT_RECORD, encodeRecord(SMMU_EVENT_RECORD, event))).toEqual(event);
    const priq = {
      sid: 7n,
      ssid: 9n,
      permPriv: 1n,
      permExec: 0n,
      permRead: 1n,
      permWrite: 0n,
      prgLast: 1n,
      ssidV: 1n,
      prgIdx: 0x1ffn,
      addr: 2n ** 52n - 1n,
    };
    expect(decodeRecord(SMMU_PRIQ_ENTRY, encodeRecord(SMMU_PRIQ_ENTRY, priq))).toEqual(priq);
  });
});
