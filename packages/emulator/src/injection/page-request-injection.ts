/**
 * Raw page request injection, like the kernel selftest's IOMMU_TEST_OP_TRIGGER_IOPF
 * (drivers/iommu/iommufd/selftest.c) but one layer lower: a PCIe Page Request Message from a device reaches
 * its IOMMU now, as if it had just crossed the link, and takes the path a request of the device's own takes:
 * the IOMMU's page request queue (or its overflow), the driver's intake (prq_event_thread's checks,
 * arm_smmu_handle_ppr), the iopf core (a partial kept, a group built on Last, the handler) and the response,
 * which reaches the device half a PRI round trip later. Its events and records are those of any request,
 * `pri.page-request` (or `pri.stop-marker`) marked `injected`.
 *
 * No transaction, fault flow or credit stands behind it, so the device takes the response for whatever it
 * has outstanding at that PRG index and PASID, or as unexpected (Status UPRGI, pri.unexpected-response,
 * reference §5). That drives what a well-behaved device never sends: two PASIDs in one PRG index (the core
 * merges partials by index alone), a Last without partials, a response to an index not outstanding, a
 * request the driver refuses as malformed (a privileged read, an execute with read, a non-canonical address).
 *
 * Everything is checked first; a refusal changes nothing.
 */
import { type AddressInput, formatAddress, splitAddress } from '../address';
import type { Device } from '../device/device';
import { PRG_INDEXES } from '../device/pri-requester';
import { NO_PASID } from '../domain/domain';
import { fail } from '../errors';
import type { FaultPath } from '../fault/fault-path';
import {
  PAGE_REQUEST_LAST_PAGE,
  PAGE_REQUEST_PASID_VALID,
  PAGE_REQUEST_RESPONSE_NEEDS_PASID,
} from '../fault/page-request';
import { PERM_EXEC, PERM_PRIV, PERM_READ, PERM_WRITE } from '../pagetable/permissions';

/** The access bits of a Page Request: R and W, and Execute / Privileged Mode Requested of the PASID prefix. */
export interface PageRequestAccess {
  read?: boolean;
  write?: boolean;
  exec?: boolean;
  privileged?: boolean;
}

export interface PageRequestSpec {
  device: string;
  /** The PASID of its PASID TLP prefix; omitted or null: no prefix. */
  pasid?: number | null;
  /** PRG index, 9 bits. */
  prgIndex: number;
  access: PageRequestAccess;
  /** The page's address (bits 63:12 are all a Page Request carries, so it must be 4 KiB aligned). */
  address: AddressInput;
  /** L: the last request of its group. */
  last: boolean;
  /**
   * A Stop Marker is L=1 with R=W=0 (PCIe; prq.c tests exactly that): given, it must agree with `last` and
   * `access`, which alone decide what the message is.
   */
  stopMarker?: boolean;
}

export interface InjectedPageRequest {
  /** The request's sequence number, as its events name it. */
  request: number;
  stopMarker: boolean;
}

const ACCESS_FLAGS = ['read', 'write', 'exec', 'privileged'] as const;

export function injectPageRequest(
  device: Device,
  spec: PageRequestSpec,
  faults: FaultPath,
): InjectedPageRequest {
  if (device.caps.pri === null)
    fail('EINVAL', `${device.id} has no PRI capability: it sends no page requests.`, { reason: 'no-pri' });
  if (!device.pri.enabled)
    fail('EINVAL', `PRI is not enabled on ${device.id}; enable I/O page faults first.`, {
      reason: 'pri-disabled',
    });
  const prgIndex = spec.prgIndex;
  if (!Number.isInteger(prgIndex) || prgIndex < 0 || prgIndex >= PRG_INDEXES)
    fail('EINVAL', `PRG index ${prgIndex} must be 0..${PRG_INDEXES - 1} (9 bits).`, {
      reason: 'bad-prg-index',
    });
  const given = spec.pasid ?? null;
  if (given !== null) {
    if (device.caps.pasidBits === 0)
      fail('EINVAL', `${device.id} has no PASID capability, so its page requests carry no PASID.`, {
        reason: 'no-pasid',
      });
    const limit = 2 ** device.caps.pasidBits;
    if (!Number.isInteger(given) || given < 0 || given >= limit)
      fail('EINVAL', `PASID ${given} must be 0..${limit - 1} (${device.id}'s PASID width).`, {
        reason: 'bad-pasid',
      });
  }
  const pasid = given ?? NO_PASID;
  const access = spec.access as unknown;
  if (typeof access !== 'object' || access === null)
    fail('EINVAL', 'access must be an object of read, write, exec and privileged flags.', {
      reason: 'bad-access',
    });
  for (const [flag, value] of Object.entries(access)) {
    if (!(ACCESS_FLAGS as readonly string[]).includes(flag) || typeof value !== 'boolean')
      fail('EINVAL', `access.${flag} is not one of the boolean flags ${ACCESS_FLAGS.join(', ')}.`, {
        reason: 'bad-access',
      });
  }
  const { page, offset } = splitAddress(spec.address, 'address');
  if (offset !== 0)
    fail(
      'EINVAL',
      `address ${formatAddress(page, offset)} is not 4 KiB aligned: a page request names a page.`,
      {
        reason: 'misaligned',
      },
    );
  if (typeof spec.last !== 'boolean') fail('EINVAL', 'last must be true or false.', { reason: 'bad-last' });
  const { read = false, write = false, exec = false, privileged = false } = spec.access;
  const stopMarker = spec.last && !read && !write;
  if (spec.stopMarker !== undefined && spec.stopMarker !== stopMarker)
    fail(
      'EINVAL',
      spec.stopMarker
        ? 'a Stop Marker is a last request with neither read nor write: set last and clear read and write.'
        : 'a last request with neither read nor write is a Stop Marker: give it read or write, or say stopMarker.',
      { reason: 'bad-stop-marker' },
    );
  if (faults.livelock !== null)
    fail('EBUSY', 'the system stopped on a page request queue livelock; nothing runs after it.', {
      reason: 'livelocked',
    });

  const perm =
    (read ? PERM_READ : 0) | (write ? PERM_WRITE : 0) | (exec ? PERM_EXEC : 0) | (privileged ? PERM_PRIV : 0);
  // iommu_fault_page_request.flags as the driver would set them from the message (reference §1).
  const flags =
    (pasid !== NO_PASID ? PAGE_REQUEST_PASID_VALID : 0) |
    (spec.last ? PAGE_REQUEST_LAST_PAGE : 0) |
    (pasid !== NO_PASID && device.caps.prgResponsePasidRequired ? PAGE_REQUEST_RESPONSE_NEEDS_PASID : 0);
  const request = faults.injectPageRequest(device, pasid, page, perm, prgIndex, flags, stopMarker);
  return { request, stopMarker };
}
