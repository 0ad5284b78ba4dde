/**
 * The iommufd user ABI, byte for byte: what user space reads from and writes to an iommufd object, laid
 * out from include/uapi/linux/iommufd.h (reference §4). This file is where the lab's copy of that ABI
 * lives; for now it holds the fault queue's two records (struct iommu_hwpt_pgfault, read(), and struct
 * iommu_hwpt_page_response, write()), and it will take the rest (IOMMU_FAULT_QUEUE_ALLOC, the vEVENTQ
 * header and records) as the lab grows them. Like every uapi struct these are little-endian on the
 * platforms the lab models, with the explicit padding the header spells out.
 */
import { NO_PASID } from '../domain/domain';
import { fail } from '../errors';
import { kernelPageRequestFlags } from '../fault/linux-fault-structs';
import type { PageRequest } from '../fault/page-request';
import { decodeRecord, defineRecord, encodeRecord, pageAddressValue } from '../records/bit-layout';

/**
 * struct iommu_hwpt_pgfault (40 bytes): flags 0, dev_id 4, pasid 8, grpid 12, perm 16, __reserved 20,
 * addr 24 (__aligned_u64), length 32, cookie 36. __reserved is the hole the merged v6.11 struct left
 * before a plain __u64 addr (and leaked kernel stack through); "iommufd: Fix struct iommu_hwpt_pgfault
 * init and padding" (e721f619, January 2025, ≈v6.14 and stable 6.12) named it and zeroes it. The offsets
 * did not move on 64-bit: that commit's pahole output gives the same ones before and after.
 */
export const IOMMU_HWPT_PGFAULT = defineRecord({
  id: 'iommufd.hwpt-pgfault',
  title: 'struct iommu_hwpt_pgfault',
  bytes: 40,
  source: 'include/uapi/linux/iommufd.h: struct iommu_hwpt_pgfault',
  fields: {
    flags: { bit: 0, width: 32, label: 'flags' },
    devId: { bit: 32, width: 32, label: 'dev_id' },
    pasid: { bit: 64, width: 32, label: 'pasid' },
    grpid: { bit: 96, width: 32, label: 'grpid' },
    perm: { bit: 128, width: 32, label: 'perm' },
    reserved: { bit: 160, width: 32, label: '__reserved' },
    addr: { bit: 192, width: 64, label: 'addr' },
    length: { bit: 256, width: 32, label: 'length' },
    cookie: { bit: 288, width: 32, label: 'cookie' },
  },
});

/**
 * enum iommufd_page_response_code: SUCCESS 0, INVALID 1. FAILURE was removed by a fix to the commit that
 * added the enum ("Fixes: c714f15860fc"): a Response Failure disables PRI for the whole function.
 */
export const IOMMUFD_PAGE_RESP = { SUCCESS: 0, INVALID: 1 } as const;
export type IommufdResponseCode = keyof typeof IOMMUFD_PAGE_RESP;

/** struct iommu_hwpt_page_response (8 bytes): cookie 0, code 4. */
export const IOMMU_HWPT_PAGE_RESPONSE = defineRecord({
  id: 'iommufd.hwpt-page-response',
  title: 'struct iommu_hwpt_page_response',
  bytes: 8,
  source: 'include/uapi/linux/iommufd.h: struct iommu_hwpt_page_response',
  fields: {
    cookie: { bit: 0, width: 32, label: 'cookie' },
    code: {
      bit: 32,
      width: 32,
      label: 'code',
      values: { 0: 'IOMMUFD_PAGE_RESP_SUCCESS', 1: 'IOMMUFD_PAGE_RESP_INVALID' },
    },
  },
});

/**
 * One record of read() on the fault fd, as iommufd_compose_fault_message fills it: flags the raw
 * prm.flags (the v6.10+ bits, as iommufd delivers faults only from v6.11: PASID_VALID 1, LAST_PAGE 2,
 * NEEDS_PASID 4), dev_id the iommufd device object, pasid, grpid, perm and addr from prm, length 0, the
 * group's cookie. `devId` and `cookie` are the iommufd objects' numbers, which the emulator does not keep.
 */
export function hwptPgfault(request: PageRequest, ids: { devId: number; cookie: number }): Uint8Array {
  return encodeRecord(IOMMU_HWPT_PGFAULT, {
    flags: kernelPageRequestFlags(request.flags, 'linux-6.10'),
    devId: ids.devId,
    pasid: request.pasid === NO_PASID ? 0 : request.pasid,
    grpid: request.grpid,
    perm: request.perm,
    addr: pageAddressValue(request.page),
    length: 0,
    cookie: ids.cookie,
  });
}

/** One record of write() on the fault fd. */
export function hwptPageResponse(response: { cookie: number; code: IommufdResponseCode }): Uint8Array {
  return encodeRecord(IOMMU_HWPT_PAGE_RESPONSE, {
    cookie: response.cookie,
    code: IOMMUFD_PAGE_RESP[response.code],
  });
}

/** A struct iommu_hwpt_pgfault as decoded: the u32 members as numbers, addr as a bigint. */
export interface HwptPgfault {
  flags: number;
  devId: number;
  pasid: number;
  grpid: number;
  perm: number;
  reserved: number;
  addr: bigint;
  length: number;
  cookie: number;
}

/**
 * The records of a read() buffer, in order. The kernel refuses a read whose size is not a multiple of the
 * record (iommufd_fault_fops_read: `count % fault_size` is -ESPIPE), so a buffer that is not whole records
 * is refused here too (EINVAL, as the codec refuses a record of the wrong size); an empty buffer is no
 * records, as a read that returned 0.
 */
export function decodePgfaults(bytes: Uint8Array): HwptPgfault[] {
  const size = IOMMU_HWPT_PGFAULT.bytes;
  if (bytes.length % size !== 0)
    fail('EINVAL', `${bytes.length} bytes are not whole struct iommu_hwpt_pgfault records of ${size}.`, {
      reason: 'size',
    });
  const records: HwptPgfault[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    const { addr, ...u32 } = decodeRecord(IOMMU_HWPT_PGFAULT, bytes.subarray(at, at + size));
    records.push({
      flags: Number(u32.flags),
      devId: Number(u32.devId),
      pasid: Number(u32.pasid),
      grpid: Number(u32.grpid),
      perm: Number(u32.perm),
      reserved: Number(u32.reserved),
      addr,
      length: Number(u32.length),
      cookie: Number(u32.cookie),
    });
  }
  return records;
}

/** enum iommufd_hwpt_alloc_flags (include/uapi/linux/iommufd.h). */
export const IOMMU_HWPT_ALLOC = {
  NEST_PARENT: 1 << 0,
  DIRTY_TRACKING: 1 << 1,
  FAULT_ID_VALID: 1 << 2,
  PASID: 1 << 3,
} as const;

/** enum iommu_viommu_type: DEFAULT is the core-managed vIOMMU; ARM_SMMUV3 the one with an event queue. */
export const IOMMU_VIOMMU_TYPE = { DEFAULT: 0, ARM_SMMUV3: 1 } as const;

/** enum iommu_veventq_type: DEFAULT is reserved (IOMMU_VEVENTQ_ALLOC refuses it with -EOPNOTSUPP). */
export const IOMMU_VEVENTQ_TYPE = { DEFAULT: 0, ARM_SMMUV3: 1 } as const;

/** enum iommu_veventq_flag: the header of a LOST_EVENTS entry carries no data. */
export const IOMMU_VEVENTQ_FLAG_LOST_EVENTS = 1 << 0;

/**
 * struct iommufd_vevent_header (8 bytes): flags 0, sequence 4. The sequence counts every entry the queue
 * took, lost-events headers included, and wraps from INT_MAX to 0 (iommufd_vevent_handler:
 * `veventq->sequence = (veventq->sequence + 1) & INT_MAX`), so a gap tells user space what it missed.
 */
export const IOMMUFD_VEVENT_HEADER = defineRecord({
  id: 'iommufd.vevent-header',
  title: 'struct iommufd_vevent_header',
  bytes: 8,
  source: 'include/uapi/linux/iommufd.h: struct iommufd_vevent_header',
  fields: {
    flags: { bit: 0, width: 32, label: 'flags', values: { 1: 'IOMMU_VEVENTQ_FLAG_LOST_EVENTS' } },
    sequence: { bit: 32, width: 32, label: 'sequence' },
  },
});

/** A vEVENTQ entry as decoded from read(): its header, and its data unless it is a lost-events header. */
export interface Vevent {
  flags: number;
  sequence: number;
  data: Uint8Array | null;
}

/**
 * The entries of a vEVENTQ read() buffer, in order. Every entry of one queue carries data of one size
 * (its type's struct: struct iommu_vevent_arm_smmuv3 is 32 bytes), so the buffer splits without lengths.
 */
export function decodeVevents(bytes: Uint8Array, dataBytes: number): Vevent[] {
  const header = IOMMUFD_VEVENT_HEADER.bytes;
  const entries: Vevent[] = [];
  for (let at = 0; at < bytes.length;) {
    if (bytes.length - at < header)
      fail('EINVAL', `${bytes.length - at} bytes left are not a vEVENTQ header of ${header}.`, {
        reason: 'size',
      });
    const fields = decodeRecord(IOMMUFD_VEVENT_HEADER, bytes.subarray(at, at + header));
    at += header;
    const flags = Number(fields.flags);
    const lost = (flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS) !== 0;
    if (!lost && bytes.length - at < dataBytes)
      fail('EINVAL', `an entry's data needs ${dataBytes} bytes, ${bytes.length - at} are left.`, {
        reason: 'size',
      });
    entries.push({
      flags,
      sequence: Number(fields.sequence),
      data: lost ? null : bytes.slice(at, at + dataBytes),
    });
    if (!lost) at += dataBytes;
  }
  return entries;
}
