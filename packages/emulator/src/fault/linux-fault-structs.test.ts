import { describe, expect, it } from 'vitest';
import { kernelProfile } from '../profile/kernel-profile';
import { PERM_PRIV, PERM_READ, PERM_WRITE } from '../pagetable/permissions';
import { decodeRecord, encodeRecord } from '../records/bit-layout';
import { recordView } from '../testing/record-view';
import { USER_BASE, systemWith } from '../testing/fixtures';
import {
  IOMMU_FAULT_PAGE_REQUEST,
  iommuFaultLayout,
  iommuPageResponseLayout,
  linuxIommuFault,
  linuxPageResponse,
} from './linux-fault-structs';
import {
  PAGE_REQUEST_LAST_PAGE,
  PAGE_REQUEST_PASID_VALID,
  PAGE_REQUEST_RESPONSE_NEEDS_PASID,
  blankPageRequest,
} from './page-request';

const seed = kernelProfile('seed-5.13');
const mainline = kernelProfile('mainline');
const proposal = kernelProfile('proposal');

/** A page request as the fault path builds one for a PCIe function with PRG Response PASID Required. */
function pageRequest() {
  const s = systemWith('vtd', 'mainline', [
    { id: 'nic', ats: true, pri: { capacity: 32 }, pasidBits: 20, rid: 0x0300 },
  ]);
  return Object.assign(blankPageRequest(), {
    device: s.device('nic'),
    pasid: 0x1234,
    page: USER_BASE / 4096 + 5,
    perm: PERM_READ | PERM_WRITE | PERM_PRIV,
    grpid: 0x1a5,
    flags: PAGE_REQUEST_PASID_VALID | PAGE_REQUEST_LAST_PAGE | PAGE_REQUEST_RESPONSE_NEEDS_PASID,
  });
}

/**
 * The struct as C lays it out, written member by member at the header's offsets (not through the codec).
 * prm at `prmAt`; flags already in the kernel's spelling.
 */
function cFault(size: number, type: number, prmAt: number, flags: number): Uint8Array {
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, type, true); // u32 type
  view.setUint32(prmAt + 0, flags, true); // prm.flags
  view.setUint32(prmAt + 4, 0x1234, true); // prm.pasid
  view.setUint32(prmAt + 8, 0x1a5, true); // prm.grpid
  view.setUint32(prmAt + 12, PERM_READ | PERM_WRITE | PERM_PRIV, true); // prm.perm: IOMMU_FAULT_PERM_*
  view.setBigUint64(prmAt + 16, BigInt(USER_BASE + 5 * 4096), true); // prm.addr
  return bytes; // private_data[2] at prmAt + 24, + 32: zero
}

describe('struct iommu_fault: the kernel profile decides the definition', () => {
  it('seed-5.13 has IOMMU_FAULT_PAGE_REQ = 2, mainline and the proposal 1', () => {
    // include/uapi/linux/iommu.h (v5.13): enum iommu_fault_type { IOMMU_FAULT_DMA_UNRECOV = 1, IOMMU_FAULT_PAGE_REQ, };
    // include/linux/iommu.h (v6.10+): enum iommu_fault_type { IOMMU_FAULT_PAGE_REQ = 1, };
    const typeOf = (bytes: Uint8Array) => new DataView(bytes.buffer).getUint32(0, true);
    expect(typeOf(linuxIommuFault(pageRequest(), seed))).toBe(2);
    expect(typeOf(linuxIommuFault(pageRequest(), mainline))).toBe(1);
    expect(typeOf(linuxIommuFault(pageRequest(), proposal))).toBe(1);
    expect(recordView(iommuFaultLayout(seed), linuxIommuFault(pageRequest(), seed)).fields[0]).toMatchObject({
      label: 'type',
      meaning: 'IOMMU_FAULT_PAGE_REQ',
    });
  });

  it('v5.13: 64 bytes, u32 type, u32 padding, the union at 8 (56 bytes); NEEDS_PASID is 1 << 3', () => {
    // struct iommu_fault { __u32 type; __u32 padding; union { struct iommu_fault_unrecoverable event;
    //   struct iommu_fault_page_request prm; __u8 padding2[56]; }; };
    // #define IOMMU_FAULT_PAGE_REQUEST_PASID_VALID (1 << 0), _LAST_PAGE (1 << 1), _PRIV_DATA (1 << 2),
    // #define IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID (1 << 3)
    const bytes = linuxIommuFault(pageRequest(), seed);
    expect(bytes.length).toBe(64);
    expect(bytes).toEqual(cFault(64, 2, 8, (1 << 0) | (1 << 1) | (1 << 3)));
  });

  it('v6.10+: 48 bytes, prm still at 8 (the hole u64 alignment leaves); NEEDS_PASID is 1 << 2', () => {
    // struct iommu_fault { u32 type; struct iommu_fault_page_request prm; };  prm holds a u64: 8-aligned.
    // #define IOMMU_FAULT_PAGE_REQUEST_PASID_VALID (1 << 0), _LAST_PAGE (1 << 1),
    // #define IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID (1 << 2)   (PRIV_DATA removed in v6.10)
    const bytes = linuxIommuFault(pageRequest(), mainline);
    expect(bytes.length).toBe(48);
    expect(bytes).toEqual(cFault(48, 1, 8, (1 << 0) | (1 << 1) | (1 << 2)));
  });

  it('a request without PASID reports pasid 0 and no PASID_VALID', () => {
    const request = Object.assign(pageRequest(), { pasid: -1, flags: PAGE_REQUEST_LAST_PAGE });
    const fields = decodeRecord(iommuFaultLayout(mainline), linuxIommuFault(request, mainline));
    expect(fields).toMatchObject({ flags: 2n, pasid: 0n });
  });

  it('struct iommu_fault_page_request is 40 bytes: flags 0, pasid 4, grpid 8, perm 12, addr 16, private_data 24', () => {
    // struct iommu_fault_page_request { u32 flags; u32 pasid; u32 grpid; u32 perm; u64 addr; u64 private_data[2]; };
    const offsets = Object.values(IOMMU_FAULT_PAGE_REQUEST.fields).map((field) => field.bit / 8);
    expect(IOMMU_FAULT_PAGE_REQUEST.bytes).toBe(40);
    expect(offsets).toEqual([0, 4, 8, 12, 16, 24, 32]);
    const values = {
      flags: 3n,
      pasid: 0xfffffn,
      grpid: 0x1ffn,
      perm: 0xfn,
      addr: 2n ** 64n - 4096n,
      privateData0: 1n,
      privateData1: 2n ** 63n,
    };
    expect(decodeRecord(IOMMU_FAULT_PAGE_REQUEST, encodeRecord(IOMMU_FAULT_PAGE_REQUEST, values))).toEqual(
      values,
    );
  });

  it('both struct iommu_fault layouts round-trip', () => {
    for (const profile of [seed, mainline]) {
      const layout = iommuFaultLayout(profile);
      const fields = decodeRecord(layout, linuxIommuFault(pageRequest(), profile));
      expect(decodeRecord(layout, encodeRecord(layout, fields))).toEqual(fields);
    }
  });
});

describe('struct iommu_page_response: argsz and version until v6.9, then {pasid, grpid, code}', () => {
  it('v5.13: 24 bytes, argsz 0, version IOMMU_PAGE_RESP_VERSION_1, flags PASID_VALID, then pasid, grpid, code', () => {
    // struct iommu_page_response { __u32 argsz; __u32 version; __u32 flags; __u32 pasid; __u32 grpid; __u32 code; };
    // #define IOMMU_PAGE_RESP_VERSION_1 1, #define IOMMU_PAGE_RESP_PASID_VALID (1 << 0); IOMMU_PAGE_RESP_INVALID 1
    const bytes = linuxPageResponse({ pasid: 0x1234, grpid: 0x1a5, code: 'INVALID', pasidValid: true }, seed);
    const expected = new Uint8Array(24);
    const view = new DataView(expected.buffer);
    [0, 1, 1, 0x1234, 0x1a5, 1].forEach((value, i) => view.setUint32(4 * i, value, true));
    expect(bytes).toEqual(expected);
    expect(iommuPageResponseLayout(seed).bytes).toBe(24);
  });

  it('v6.10+: 12 bytes, pasid 0, grpid 4, code 8; no PASID flag to carry', () => {
    // struct iommu_page_response { u32 pasid; u32 grpid; u32 code; };  IOMMU_PAGE_RESP_FAILURE 2
    const bytes = linuxPageResponse(
      { pasid: 0x1234, grpid: 0x1a5, code: 'FAILURE', pasidValid: true },
      mainline,
    );
    const expected = new Uint8Array(12);
    const view = new DataView(expected.buffer);
    [0x1234, 0x1a5, 2].forEach((value, i) => view.setUint32(4 * i, value, true));
    expect(bytes).toEqual(expected);
    expect(
      linuxPageResponse({ pasid: 0x1234, grpid: 0x1a5, code: 'FAILURE', pasidValid: false }, mainline),
    ).toEqual(expected);
  });

  it('a response without PASID has pasid 0 and flags 0 in v5.13', () => {
    const fields = decodeRecord(
      iommuPageResponseLayout(seed),
      linuxPageResponse({ pasid: -1, grpid: 3, code: 'SUCCESS', pasidValid: false }, seed),
    );
    expect(fields).toMatchObject({ version: 1n, flags: 0n, pasid: 0n, grpid: 3n, code: 0n });
  });
});
