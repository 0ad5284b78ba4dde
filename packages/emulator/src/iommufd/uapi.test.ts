import { describe, expect, it } from 'vitest';
import {
  PAGE_REQUEST_LAST_PAGE,
  PAGE_REQUEST_PASID_VALID,
  PAGE_REQUEST_RESPONSE_NEEDS_PASID,
  blankPageRequest,
} from '../fault/page-request';
import { PERM_EXEC, PERM_READ } from '../pagetable/permissions';
import { decodeRecord, encodeRecord } from '../records/bit-layout';
import { recordView } from '../testing/record-view';
import { USER_BASE, systemWith } from '../testing/fixtures';
import {
  IOMMUFD_VEVENT_HEADER,
  IOMMU_HWPT_PAGE_RESPONSE,
  IOMMU_HWPT_PGFAULT,
  IOMMU_VEVENTQ_FLAG_LOST_EVENTS,
  decodePgfaults,
  decodeVevents,
  hwptPageResponse,
  hwptPgfault,
} from './uapi';
import { refusal } from '../testing/refusal';

function pageRequest(fill: object = {}) {
  const s = systemWith('vtd', 'mainline', [{ id: 'nic', ats: true, pri: { capacity: 32 }, pasidBits: 20 }]);
  return Object.assign(
    blankPageRequest(),
    {
      device: s.device('nic'),
      pasid: 0x77,
      page: USER_BASE / 4096 + 1,
      perm: PERM_READ | PERM_EXEC,
      grpid: 0x55,
      flags: PAGE_REQUEST_PASID_VALID | PAGE_REQUEST_LAST_PAGE | PAGE_REQUEST_RESPONSE_NEEDS_PASID,
    },
    fill,
  );
}

describe('struct iommu_hwpt_pgfault: what read() on the fault fd returns', () => {
  it('is 40 bytes with the members at the offsets pahole gives for the header', () => {
    // "iommufd: Fix struct iommu_hwpt_pgfault init and padding", pahole after: flags 0, dev_id 4, pasid 8,
    // grpid 12, perm 16, __reserved 20, addr 24 (__aligned_u64), length 32, cookie 36; size: 40.
    const offsets = Object.values(IOMMU_HWPT_PGFAULT.fields).map((field) => field.bit / 8);
    expect(IOMMU_HWPT_PGFAULT.bytes).toBe(40);
    expect(offsets).toEqual([0, 4, 8, 12, 16, 20, 24, 32, 36]);
  });

  it('carries prm as iommufd_compose_fault_message copies it: raw flags, length 0, the group cookie', () => {
    // hwpt_fault->flags = fault->prm.flags; ->dev_id = idev->obj.id; ->pasid, ->grpid, ->perm, ->addr from
    // prm; ->length = 0; ->cookie = cookie. prm.flags in v6.10+: PASID_VALID 1 << 0, LAST_PAGE 1 << 1,
    // NEEDS_PASID 1 << 2.
    const bytes = hwptPgfault(pageRequest(), { devId: 3, cookie: 1 });
    const expected = new Uint8Array(40);
    const view = new DataView(expected.buffer);
    view.setUint32(0, (1 << 0) | (1 << 1) | (1 << 2), true);
    view.setUint32(4, 3, true);
    view.setUint32(8, 0x77, true);
    view.setUint32(12, 0x55, true);
    view.setUint32(16, PERM_READ | PERM_EXEC, true); // IOMMU_PGFAULT_PERM_READ 1 << 0, _EXEC 1 << 2
    view.setBigUint64(24, BigInt(USER_BASE + 4096), true);
    view.setUint32(36, 1, true);
    expect(bytes).toEqual(expected);
  });

  it('a request without PASID reads pasid 0 and no PASID_VALID', () => {
    const [record] = decodePgfaults(
      hwptPgfault(pageRequest({ pasid: -1, flags: PAGE_REQUEST_LAST_PAGE }), { devId: 1, cookie: 2 }),
    );
    expect(record).toMatchObject({ flags: 2, pasid: 0, reserved: 0, length: 0, cookie: 2 });
  });

  it('round-trips, addr exactly as a 64-bit value', () => {
    const values = {
      flags: 7n,
      devId: 0xffffffffn,
      pasid: 0xfffffn,
      grpid: 0x1ffn,
      perm: 0xfn,
      reserved: 0n,
      addr: 2n ** 64n - 4096n,
      length: 0n,
      cookie: 0xffffffffn,
    };
    expect(decodeRecord(IOMMU_HWPT_PGFAULT, encodeRecord(IOMMU_HWPT_PGFAULT, values))).toEqual(values);
  });
});

describe('decodePgfaults: a read() buffer of whole 40-byte records', () => {
  it('decodes every record of a group in order, each with the group cookie', () => {
    const group = [0, 1, 2].map((i) =>
      hwptPgfault(pageRequest({ page: USER_BASE / 4096 + i, flags: i === 2 ? PAGE_REQUEST_LAST_PAGE : 0 }), {
        devId: 4,
        cookie: 9,
      }),
    );
    const buffer = new Uint8Array(120);
    group.forEach((record, i) => buffer.set(record, 40 * i));
    const records = decodePgfaults(buffer);
    expect(records.map((r) => [r.addr, r.flags, r.cookie])).toEqual([
      [BigInt(USER_BASE), 0, 9],
      [BigInt(USER_BASE + 4096), 0, 9],
      [BigInt(USER_BASE + 8192), 2, 9],
    ]);
    expect(decodePgfaults(new Uint8Array(0))).toEqual([]);
  });

  it('refuses a buffer that is not a multiple of 40 bytes (EINVAL, reason size)', () => {
    const error = refusal(() => decodePgfaults(new Uint8Array(41)));
    expect([error.code, error.reason]).toEqual(['EINVAL', 'size']);
    expect(refusal(() => decodePgfaults(new Uint8Array(39))).reason).toBe('size');
  });
});

describe('struct iommu_hwpt_page_response: what write() takes', () => {
  it('is 8 bytes, cookie at 0 and code at 4, IOMMUFD_PAGE_RESP_SUCCESS 0 and INVALID 1', () => {
    // struct iommu_hwpt_page_response { __u32 cookie; __u32 code; };
    // enum iommufd_page_response_code { IOMMUFD_PAGE_RESP_SUCCESS = 0, IOMMUFD_PAGE_RESP_INVALID = 1, };
    const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset);
    const success = hwptPageResponse({ cookie: 0x1234, code: 'SUCCESS' });
    const invalid = hwptPageResponse({ cookie: 0x1234, code: 'INVALID' });
    expect(IOMMU_HWPT_PAGE_RESPONSE.bytes).toBe(8);
    expect([view(success).getUint32(0, true), view(success).getUint32(4, true)]).toEqual([0x1234, 0]);
    expect(view(invalid).getUint32(4, true)).toBe(1);
    expect(recordView(IOMMU_HWPT_PAGE_RESPONSE, invalid).fields[1]).toMatchObject({
      meaning: 'IOMMUFD_PAGE_RESP_INVALID',
    });
  });
});

describe('struct iommufd_vevent_header: what read() on a vEVENTQ returns before each event', () => {
  it('is 8 bytes, flags at 0 and sequence at 4, IOMMU_VEVENTQ_FLAG_LOST_EVENTS 1, and round-trips', () => {
    // struct iommufd_vevent_header { __u32 flags; __u32 sequence; };
    // enum iommu_veventq_flag { IOMMU_VEVENTQ_FLAG_LOST_EVENTS = (1U << 0), };
    expect(IOMMUFD_VEVENT_HEADER.bytes).toBe(8);
    const lost = encodeRecord(IOMMUFD_VEVENT_HEADER, {
      flags: IOMMU_VEVENTQ_FLAG_LOST_EVENTS,
      sequence: 0x7fff_ffff,
    });
    const view = new DataView(lost.buffer, lost.byteOffset);
    expect([view.getUint32(0, true), view.getUint32(4, true)]).toEqual([1, 0x7fff_ffff]);
    expect(decodeRecord(IOMMUFD_VEVENT_HEADER, lost)).toEqual({ flags: 1n, sequence: 0x7fff_ffffn });
    expect(recordView(IOMMUFD_VEVENT_HEADER, lost).fields[0]).toMatchObject({
      meaning: 'IOMMU_VEVENTQ_FLAG_LOST_EVENTS',
    });
  });

  it('decodeVevents splits a read into entries: a lost-events header has no data; a short buffer is EINVAL', () => {
    const event = new Uint8Array(32).fill(0xab);
    const buffer = new Uint8Array([
      ...encodeRecord(IOMMUFD_VEVENT_HEADER, { flags: 0, sequence: 4 }),
      ...event,
      ...encodeRecord(IOMMUFD_VEVENT_HEADER, { flags: IOMMU_VEVENTQ_FLAG_LOST_EVENTS, sequence: 5 }),
    ]);
    expect(decodeVevents(buffer, 32)).toEqual([
      { flags: 0, sequence: 4, data: event },
      { flags: 1, sequence: 5, data: null },
    ]);
    expect(refusal(() => decodeVevents(buffer.subarray(0, 20), 32))).toMatchObject({
      code: 'EINVAL',
      reason: 'size',
    });
  });
});
