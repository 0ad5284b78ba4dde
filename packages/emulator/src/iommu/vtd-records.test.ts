import { describe, expect, it } from 'vitest';
import {
  PAGE_REQUEST_LAST_PAGE,
  PAGE_REQUEST_PASID_VALID,
  blankPageRequest,
  type PageRequest,
} from '../fault/page-request';
import { PERM_EXEC, PERM_PRIV, PERM_READ, PERM_WRITE } from '../pagetable/permissions';
import { decodeRecord, encodeRecord, type FieldSpec, type RecordLayout } from '../records/bit-layout';
import { recordView } from '../testing/record-view';
import { PRI_DEVICE, capture, systemWith } from '../testing/fixtures';
import {
  VTD_FAULT_RECORD,
  VTD_PAGE_GROUP_RESPONSE,
  VTD_PAGE_REQUEST_DESCRIPTOR,
  vtdFaultRecord,
  vtdPageGroupResponse,
  vtdPageRequestDescriptor,
} from './vtd';

/** The record's n-th little-endian 64-bit word, as the kernel sees desc.qw0, qw1, ... */
function qword(bytes: Uint8Array, n: number): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(8 * n, true);
}

/** The n-th 32-bit dword, as dmar_fault() readl()s the FRCD at +0, +4, +8, +12. */
function dword(bytes: Uint8Array, n: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(4 * n, true);
}

/** GENMASK_ULL(h, l) and FIELD_GET, as include/linux/bits.h and bitfield.h define them. */
const GENMASK_ULL = (h: number, l: number) => ((1n << BigInt(h - l + 1)) - 1n) << BigInt(l);
const BIT_ULL = (n: number) => 1n << BigInt(n);
function FIELD_GET(mask: bigint, value: bigint): bigint {
  let field = value & mask;
  for (let low = mask; (low & 1n) === 0n; low >>= 1n) field >>= 1n;
  return field;
}

/** Every field at its widest value, and a pattern, so a field placed one bit off shows. */
function roundTrips(layout: RecordLayout) {
  const widest: Record<string, bigint> = {};
  const pattern: Record<string, bigint> = {};
  for (const [name, field] of Object.entries<FieldSpec>(layout.fields)) {
    widest[name] = (1n << BigInt(field.width)) - 1n;
    pattern[name] = 0x5a5a5a5a5a5a5a5an & widest[name];
  }
  expect(decodeRecord(layout, encodeRecord(layout, widest))).toEqual(widest);
  expect(decodeRecord(layout, encodeRecord(layout, pattern))).toEqual(pattern);
}

function vtdSystem() {
  return systemWith('vtd', 'mainline', [{ id: 'nic0', rid: '3a:1f.5', ...PRI_DEVICE }]);
}

function request(s: ReturnType<typeof vtdSystem>, fields: Partial<PageRequest>): PageRequest {
  return { ...blankPageRequest(), pooled: false, device: s.device('nic0'), ...fields };
}

const RID = (0x3a << 8) | (0x1f << 3) | 5; // 3a:1f.5

describe('VT-d records: each layout round-trips every field', () => {
  it('page request descriptor, page group response and FRCD decode to what was encoded', () => {
    roundTrips(VTD_PAGE_REQUEST_DESCRIPTOR);
    roundTrips(VTD_PAGE_GROUP_RESPONSE);
    roundTrips(VTD_FAULT_RECORD);
  });
});

describe('VT-d page request descriptor = struct page_req_dsc (intel/prq.c) from a real PageRequest', () => {
  it('a PASID request with read, write and last matches the kernel decoder and QEMU writer bit for bit', () => {
    const s = vtdSystem();
    const page = 0x7f0000123;
    const bytes = vtdPageRequestDescriptor(
      request(s, {
        pasid: 0xabcde,
        page,
        perm: PERM_READ | PERM_WRITE,
        grpid: 0x1a5,
        flags: PAGE_REQUEST_PASID_VALID | PAGE_REQUEST_LAST_PAGE,
      }),
    );
    expect(bytes).toHaveLength(32);
    const qw0 = qword(bytes, 0);
    const qw1 = qword(bytes, 1);
    // QEMU hw/i386/intel_iommu_internal.h, as vtd_pri_request_page() writes a descriptor:
    //   desc.lo = VTD_PRD_TYPE | VTD_PRD_PP(true) | VTD_PRD_RID(sid) | VTD_PRD_PASID(vtd_as->pasid) | VTD_PRD_PMR(priv_req);
    //   desc.hi = VTD_PRD_RDR(is_read) | VTD_PRD_WRR(is_write) | VTD_PRD_LPIG(lpig) | VTD_PRD_PRGI(prgi) | VTD_PRD_ADDR(addr);
    // with VTD_PRD_TYPE (1ULL), VTD_PRD_PP(val) (((val) & 1ULL) << 8), VTD_PRD_RID(val) (((val) & 0xffffULL) << 16),
    // VTD_PRD_PASID(val) (((val) & 0xfffffULL) << 32), VTD_PRD_PMR(val) (((val) & 1ULL) << 53), VTD_PRD_RDR(val)
    // ((val) & 1ULL), VTD_PRD_WRR(val) (((val) & 1ULL) << 1), VTD_PRD_LPIG(val) (((val) & 1ULL) << 2),
    // VTD_PRD_PRGI(val) (((val) & 0x1ffULL) << 3), VTD_PRD_ADDR(val) ((val) & 0xfffffffffffff000ULL).
    const addr = BigInt(page) << 12n;
    expect(qw0).toBe(1n | (1n << 8n) | (BigInt(RID) << 16n) | (0xabcden << 32n) | (0n << 53n));
    expect(qw1).toBe(1n | (1n << 1n) | (1n << 2n) | (0x1a5n << 3n) | (addr & 0xfffffffffffff000n));
    // Linux drivers/iommu/intel/iommu.h decode_prq_descriptor(): rid = FIELD_GET(GENMASK_ULL(31, 16), dw0),
    // addr = FIELD_GET(GENMASK_ULL(63, 12), dw1), pasid = FIELD_GET(GENMASK_ULL(51, 32), dw0),
    // index = FIELD_GET(GENMASK_ULL(11, 3), dw1), r dw1 & BIT_ULL(0), w BIT_ULL(1), l BIT_ULL(2), x dw0 & BIT_ULL(52), p BIT_ULL(53).
    expect(FIELD_GET(GENMASK_ULL(31, 16), qw0)).toBe(BigInt(RID));
    expect(FIELD_GET(GENMASK_ULL(63, 12), qw1)).toBe(BigInt(page));
    expect(FIELD_GET(GENMASK_ULL(51, 32), qw0)).toBe(0xabcden);
    expect(FIELD_GET(GENMASK_ULL(11, 3), qw1)).toBe(0x1a5n);
    expect([qw1 & BIT_ULL(0), qw1 & BIT_ULL(1), qw1 & BIT_ULL(2)]).toEqual([1n, 2n, 4n]);
    expect([qw0 & BIT_ULL(52), qw0 & BIT_ULL(53)]).toEqual([0n, 0n]);
    expect([qword(bytes, 2), qword(bytes, 3)]).toEqual([0n, 0n]); // no private data
  });

  it('execute and privileged requests set exe_req (bit 52) and pm_req (bit 53), as prq_to_iommu_prot reads them', () => {
    const s = vtdSystem();
    const qw0 = qword(
      vtdPageRequestDescriptor(
        request(s, { pasid: 1, perm: PERM_EXEC | PERM_PRIV, flags: PAGE_REQUEST_PASID_VALID }),
      ),
      0,
    );
    expect(qw0 & BIT_ULL(52)).toBe(BIT_ULL(52));
    expect(qw0 & BIT_ULL(53)).toBe(BIT_ULL(53));
  });

  it('a Stop Marker is lpig=1 with rd_req=wr_req=0: the case prq_event_thread drops', () => {
    const s = vtdSystem();
    const marker = request(s, {
      pasid: 7,
      page: 0,
      perm: 0,
      grpid: 0,
      flags: PAGE_REQUEST_PASID_VALID | PAGE_REQUEST_LAST_PAGE,
      stopMarker: true,
    });
    const fields = decodeRecord(VTD_PAGE_REQUEST_DESCRIPTOR, vtdPageRequestDescriptor(marker));
    // prq.c: "if (unlikely(req->lpig && !req->rd_req && !req->wr_req)) goto prq_advance;"
    expect(fields).toMatchObject({ lpig: 1n, rdReq: 0n, wrReq: 0n, pasidPresent: 1n, pasid: 7n });
  });

  it('a request without PASID has pasid_present 0 and a zero PASID field', () => {
    const s = vtdSystem();
    const fields = decodeRecord(
      VTD_PAGE_REQUEST_DESCRIPTOR,
      vtdPageRequestDescriptor(request(s, { pasid: -1, perm: PERM_READ, flags: PAGE_REQUEST_LAST_PAGE })),
    );
    expect(fields).toMatchObject({ pasidPresent: 0n, pasid: 0n, rid: BigInt(RID), rdReq: 1n, lpig: 1n });
  });

  it('a PRG index wider than 9 bits is refused, not truncated', () => {
    const s = vtdSystem();
    expect(() => vtdPageRequestDescriptor(request(s, { grpid: 0x200 }))).toThrow(/9 bits wide/);
  });
});

describe('VT-d page group response = intel_iommu_page_response() with the QI_PGRP_* macros', () => {
  // drivers/iommu/intel/iommu.h, transcribed:
  //   #define QI_PGRP_PASID_P(p)     (((u64)(p)) << 4)
  //   #define QI_PGRP_RESP_CODE(res) (((u64)(res)) << 12)
  //   #define QI_PGRP_DID(rid)       (((u64)(rid)) << 16)
  //   #define QI_PGRP_PASID(pasid)   (((u64)(pasid)) << 32)
  //   #define QI_PGRP_LPIG(x)        (((u64)(x)) << 2)
  //   #define QI_PGRP_IDX(idx)       (((u64)(idx)) << 3)
  //   #define QI_PGRP_RESP_TYPE      0x9
  const QI_PGRP_PASID_P = (p: number) => BigInt(p) << 4n;
  const QI_PGRP_RESP_CODE = (res: number) => BigInt(res) << 12n;
  const QI_PGRP_DID = (rid: number) => BigInt(rid) << 16n;
  const QI_PGRP_PASID = (pasid: number) => BigInt(pasid) << 32n;
  const QI_PGRP_LPIG = (x: number) => BigInt(x) << 2n;
  const QI_PGRP_IDX = (idx: number) => BigInt(idx) << 3n;
  const QI_PGRP_RESP_TYPE = 0x9n;
  // include/linux/iommu.h enum iommu_page_response_code: IOMMU_PAGE_RESP_SUCCESS = 0, INVALID, FAILURE.
  const IOMMU_PAGE_RESP = { SUCCESS: 0, INVALID: 1, FAILURE: 2 } as const;

  it('qw0 and qw1 are the words prq.c builds, for every Linux code; qw2 = qw3 = 0', () => {
    for (const code of ['SUCCESS', 'INVALID', 'FAILURE'] as const) {
      const bytes = vtdPageGroupResponse({ rid: RID, pasid: 0x12345, needsPasid: true, grpid: 0x1ff, code });
      expect(bytes).toHaveLength(32);
      // prq.c intel_iommu_page_response():
      //   desc.qw0 = QI_PGRP_PASID(prm->pasid) | QI_PGRP_DID(sid) | QI_PGRP_PASID_P(pasid_present) |
      //              QI_PGRP_RESP_CODE(msg->code) | QI_PGRP_RESP_TYPE;
      //   desc.qw1 = QI_PGRP_IDX(prm->grpid) | QI_PGRP_LPIG(last_page);
      //   desc.qw2 = 0; desc.qw3 = 0;
      const qw0 =
        QI_PGRP_PASID(0x12345) |
        QI_PGRP_DID(RID) |
        QI_PGRP_PASID_P(1) |
        QI_PGRP_RESP_CODE(IOMMU_PAGE_RESP[code]) |
        QI_PGRP_RESP_TYPE;
      const qw1 = QI_PGRP_IDX(0x1ff) | QI_PGRP_LPIG(1);
      expect([qword(bytes, 0), qword(bytes, 1), qword(bytes, 2), qword(bytes, 3)]).toEqual([
        qw0,
        qw1,
        0n,
        0n,
      ]);
    }
  });

  it('the response-code quirk: FAILURE goes out as 2, the Linux enum, not QI_RESP_FAILURE 0xf', () => {
    // prq.c: "QI_PGRP_RESP_CODE(msg->code) |" where msg->code is enum iommu_page_response_code;
    // iommu.h: "#define QI_RESP_FAILURE 0xf".
    const bytes = vtdPageGroupResponse({ rid: RID, pasid: 3, grpid: 1, code: 'FAILURE' });
    expect(decodeRecord(VTD_PAGE_GROUP_RESPONSE, bytes).responseCode).toBe(2n);
    expect((qword(bytes, 0) >> 12n) & 0xfn).not.toBe(0xfn);
    const field = recordView(VTD_PAGE_GROUP_RESPONSE, bytes).fields.find((f) => f.name === 'responseCode');
    expect(field).toMatchObject({ value: 2, bit: 12, width: 4 });
    expect(field!.meaning).toMatch(/reserved.*FAILURE.*as is/);
  });

  it('a request without PASID is answered with PASID_P clear and no PASID', () => {
    const fields = decodeRecord(
      VTD_PAGE_GROUP_RESPONSE,
      vtdPageGroupResponse({ rid: RID, pasid: -1, needsPasid: false, grpid: 4, code: 'SUCCESS' }),
    );
    expect(fields).toMatchObject({ pasidPresent: 0n, pasid: 0n, rid: BigInt(RID), prgIndex: 4n, lpig: 1n });
  });
});

describe('VT-d fault recording register = what dmar_fault() reads with the dma_frcd_* macros', () => {
  // drivers/iommu/intel/iommu.h, "FRCD_REG, 32 bits access":
  //   #define DMA_FRCD_F (((u32)1) << 31)
  //   #define dma_frcd_type(d) ((d >> 30) & 1)
  //   #define dma_frcd_fault_reason(c) (c & 0xff)
  //   #define dma_frcd_source_id(c) (c & 0xffff)
  //   #define dma_frcd_pasid_value(c) (((c) >> 8) & 0xfffff)
  //   #define dma_frcd_pasid_present(c) (((c) >> 31) & 1)
  //   #define dma_frcd_page_addr(d) (d & (((u64)-1) << PAGE_SHIFT))
  const DMA_FRCD_F = 2 ** 31;
  const dma_frcd_type = (d: number) => (d >>> 30) & 1;
  const dma_frcd_fault_reason = (c: number) => c & 0xff;
  const dma_frcd_source_id = (c: number) => c & 0xffff;
  const dma_frcd_pasid_value = (c: number) => (c >>> 8) & 0xfffff;
  const dma_frcd_pasid_present = (c: number) => (c >>> 31) & 1;
  const dma_frcd_page_addr = (d: bigint) => d & (0xffffffffffffffffn << 12n);

  /** A device with a DMA domain that maps nothing and no fault handling: its write faults unrecoverably. */
  function unrecoverableWrite() {
    const s = vtdSystem();
    s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
    s.attach('nic0', 'd');
    const faults = capture(s, 'fault.unrecoverable');
    s.dma({ device: 'nic0', address: '0x7f0000123456', length: 8, access: 'write' });
    s.runUntilIdle();
    expect(faults.length).toBeGreaterThan(0);
    return faults[0]!;
  }

  it('a real unrecoverable write fault: F, T=write, FR, SID and the page address where dmar_fault() finds them', () => {
    const fault = unrecoverableWrite();
    const bytes = vtdFaultRecord(fault);
    expect(bytes).toHaveLength(16);
    // dmar_fault(): data = readl(reg + 12); if (!(data & DMA_FRCD_F)) break; fault_reason = dma_frcd_fault_reason(data);
    // type = dma_frcd_type(data); pasid = dma_frcd_pasid_value(data); data = readl(reg + 8);
    // source_id = dma_frcd_source_id(data); pasid_present = dma_frcd_pasid_present(data);
    // guest_addr = dmar_readq(reg); guest_addr = dma_frcd_page_addr(guest_addr);
    const top = dword(bytes, 3);
    const third = dword(bytes, 2);
    expect((top & DMA_FRCD_F) >>> 0).toBe(DMA_FRCD_F);
    expect(dma_frcd_fault_reason(top)).toBe(fault.code);
    expect(dma_frcd_type(top)).toBe(0); // "type ? "DMA Read" : "DMA Write""
    expect(dma_frcd_source_id(third)).toBe(RID);
    expect(dma_frcd_pasid_present(third)).toBe(0);
    expect(dma_frcd_page_addr(qword(bytes, 0))).toBe(0x7f0000123000n);
    expect(qword(bytes, 0) & 0xfffn).toBe(0n);
  });

  it('the words equal QEMU vtd_report_dmar_fault(): lo = VTD_FRCD_FI(addr), hi = SID | FR << 32 | PV << 40 | PP << 31 | T << 62 | F << 63', () => {
    const fault = { ...unrecoverableWrite(), pasid: 0x4321, access: 'read' as const };
    const bytes = vtdFaultRecord(fault);
    // hw/i386/intel_iommu_internal.h: VTD_FRCD_FI(val) ((val) & ~0xfffULL), VTD_FRCD_SID(val) ((val) & 0xffffULL),
    // VTD_FRCD_FR(val) (((val) & 0xffULL) << 32), VTD_FRCD_PV(val) (((val) & 0xffffULL) << 40),
    // VTD_FRCD_PP(val) (((val) & 0x1ULL) << 31), VTD_FRCD_T (1ULL << 62) for a read, VTD_FRCD_F (1ULL << 63).
    const lo = 0x7f0000123456n & ~0xfffn;
    const hi =
      BigInt(RID) | (BigInt(fault.code) << 32n) | (0x4321n << 40n) | (1n << 31n) | (1n << 62n) | (1n << 63n);
    expect([qword(bytes, 0), qword(bytes, 1)]).toEqual([lo, hi]);
    expect(dma_frcd_pasid_value(dword(bytes, 3))).toBe(0x4321);
  });

  it('an execute by a privileged request sets EXE and PRIV and reads as T=read', () => {
    const fault = { ...unrecoverableWrite(), access: 'exec' as const, privileged: true };
    expect(decodeRecord(VTD_FAULT_RECORD, vtdFaultRecord(fault))).toMatchObject({
      executeRequested: 1n,
      privilegeModeRequested: 1n,
      type: 1n,
      addressType: 0n,
    });
  });

  it('a fault of another family is refused', () => {
    const fault = { ...unrecoverableWrite(), family: 'smmuv3' as const };
    expect(() => vtdFaultRecord(fault)).toThrow(/not VT-d/);
  });
});
