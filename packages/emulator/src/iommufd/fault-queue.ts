/**
 * An iommufd fault object (IOMMUFD_OBJ_FAULT, drivers/iommu/iommufd/eventq.c, reference §4): the handler
 * of every HWPT allocated with its id, and the file user space reads faults from and writes responses to.
 * - The handler (iommufd_fault_iopf_handler) only appends the group to `deliver`: nothing answers it until
 *   user space does, or a detach, a replace or the object's destruction answers INVALID for it.
 * - read() hands out whole groups, oldest first, as struct iommu_hwpt_pgfault records that share the
 *   group's cookie; a group that does not fit in what is left of the buffer stays for the next read, so a
 *   buffer smaller than the first group reads 0 bytes. The cookie is taken at read time from an xarray
 *   allocating from 1 (XA_FLAGS_ALLOC1): the lowest free one, so cookies are reused once answered.
 * - write() takes struct iommu_hwpt_page_response records in order and stops at the first with a code
 *   other than SUCCESS/INVALID or a cookie not handed out (-EINVAL); what it answered before stays
 *   answered, and it returns the bytes it took, the error only when it took none.
 * - Both refuse a size that is not whole records with -ESPIPE, as the kernel does.
 * - The cookie's slot of the response xarray is an allocation (xa_alloc, GFP_KERNEL) fail-nth
 *   'fault-queue-slot' can make fail: the group stays first to read and read() stops there, returning what
 *   it read before, or -ENOMEM when that is nothing (iommufd_fault_fops_read).
 */
import type { Device } from '../device/device';
import { fail } from '../errors';
import type { IopfGroup } from '../fault/iopf-group';
import type { FaultHandler, HandlerContext, HandlerInfo } from '../fault/handlers/fault-handler';
import { type ResponseCode } from '../fault/page-request';
import { IOMMU_HWPT_PAGE_RESPONSE, IOMMU_HWPT_PGFAULT, hwptPgfault } from './uapi';
import { type CarriedRecord, carryRecord, decodeRecord } from '../records/bit-layout';
import { flowIds } from '../fault/page-request';
import type { SimEnvironment } from '../sim/environment';
import { FAIL_FAULT_QUEUE_SLOT } from '../injection/fail-nth';

const PGFAULT_BYTES = IOMMU_HWPT_PGFAULT.bytes;
const RESPONSE_BYTES = IOMMU_HWPT_PAGE_RESPONSE.bytes;
/** enum iommufd_page_response_code, by value. */
const CODES: Record<number, ResponseCode> = { 0: 'SUCCESS', 1: 'INVALID' };

/**
 * A group as the queue holds it. Groups come from the fault path's pool and are reused once answered, so
 * the queue keeps the id it saw: a group answered by someone else (detach, reset) no longer matches.
 */
interface Held {
  group: IopfGroup;
  id: number;
}

function live(held: Held): boolean {
  return held.group.id === held.id && held.group.pending;
}

export class FaultQueue implements FaultHandler {
  readonly type = 'iommufd';
  readonly categories = null;
  /** Groups handed to the handler and not yet read, oldest first (fault->common.deliver). */
  private readonly deliver: Held[] = [];
  /** Groups read and waiting for their response, by cookie (fault->response). */
  private readonly response = new Map<number, Held>();
  private context: HandlerContext | null = null;
  /** Told when the queue goes from nothing to read to something (poll: EPOLLIN). */
  onReadable: (() => void) | null = null;

  constructor(
    /** The iommufd object id (out_fault_id). */
    readonly id: number,
    /** The iommufd device object id of a device (struct iommu_hwpt_pgfault.dev_id). */
    private readonly devIdOf: (device: Device) => number,
    private readonly env: SimEnvironment,
  ) {}

  handle(group: IopfGroup, context: HandlerContext): boolean {
    this.context = context;
    const wasEmpty = this.readable() === 0;
    this.deliver.push({ group, id: group.id });
    if (wasEmpty) this.onReadable?.();
    return true;
  }

  /** Groups waiting to be read (what poll() reports as EPOLLIN). */
  readable(): number {
    this.prune();
    return this.deliver.length;
  }

  /** Groups read and not yet answered. */
  awaitingResponse(): number {
    this.prune();
    return this.response.size;
  }

  /** read(): the records of the whole groups that fit in `count` bytes. */
  read(count: number): Uint8Array {
    if (!Number.isSafeInteger(count) || count < 0 || count % PGFAULT_BYTES !== 0)
      fail('ESPIPE', `a read of the fault fd is whole ${PGFAULT_BYTES}-byte records; ${count} is not.`, {
        reason: 'size',
      });
    this.prune();
    let fits = 0;
    let records = 0;
    for (; fits < this.deliver.length; fits++) {
      const size = this.deliver[fits]!.group.faults.size;
      if ((records + size) * PGFAULT_BYTES > count) break;
      if (!this.env.failNth.allocates(FAIL_FAULT_QUEUE_SLOT)) {
        if (fits === 0)
          fail(
            'ENOMEM',
            'allocating the response slot of the next group failed (fail-nth); it stays queued.',
            {
              reason: 'fail-nth',
            },
          );
        break;
      }
      records += size;
    }
    const out = new Uint8Array(records * PGFAULT_BYTES);
    let at = 0;
    for (const held of this.deliver.splice(0, fits)) {
      const cookie = this.freeCookie();
      this.response.set(cookie, held);
      const { group } = held;
      const devId = this.devIdOf(group.device);
      const told = this.env.bus.wants('iommufd.read');
      const flows = this.env.bus.wants('flow.ended');
      const carried: CarriedRecord[] | null = told ? [] : null;
      for (let i = 0; i < group.faults.size; i++) {
        const request = group.faults.at(i);
        const bytes = hwptPgfault(request, { devId, cookie });
        out.set(bytes, at);
        at += PGFAULT_BYTES;
        if (!told && !(flows && request.flow !== null)) continue;
        // What user space read joins the flow's anatomy (layer: user) and the event.
        const record = carryRecord(IOMMU_HWPT_PGFAULT, bytes);
        carried?.push(record);
        if (flows) request.flow?.addRecord(this.env.scheduler.nowNs, record);
      }
      if (carried !== null) this.emit('iommufd.read', held, cookie, carried);
    }
    return out;
  }

  /** write(): answers groups by cookie, in order; the bytes taken. */
  write(bytes: Uint8Array): number {
    if (bytes.length % RESPONSE_BYTES !== 0)
      fail(
        'ESPIPE',
        `a write of the fault fd is whole ${RESPONSE_BYTES}-byte responses; ${bytes.length} is not.`,
        {
          reason: 'size',
        },
      );
    this.prune();
    let done = 0;
    for (; done < bytes.length; done += RESPONSE_BYTES) {
      const { cookie, code } = decodeRecord(
        IOMMU_HWPT_PAGE_RESPONSE,
        bytes.subarray(done, done + RESPONSE_BYTES),
      );
      const answer = CODES[Number(code)];
      const held = this.response.get(Number(cookie));
      if (answer === undefined || held === undefined || !live(held)) {
        if (done > 0) return done;
        if (answer === undefined)
          fail('EINVAL', `response code ${code} is neither IOMMUFD_PAGE_RESP_SUCCESS (0) nor INVALID (1).`, {
            reason: 'bad-response-code',
          });
        fail('EINVAL', `no group was read with cookie ${cookie}, or it was answered already.`, {
          reason: 'unknown-cookie',
        });
      }
      this.response.delete(Number(cookie));
      const told = this.env.bus.wants('iommufd.response');
      if (told || this.env.bus.wants('flow.ended')) {
        const record = carryRecord(IOMMU_HWPT_PAGE_RESPONSE, bytes.slice(done, done + RESPONSE_BYTES));
        for (let i = 0; i < held.group.faults.size; i++)
          held.group.faults.at(i).flow?.addRecord(this.env.scheduler.nowNs, record);
        if (told) this.emit('iommufd.response', held, Number(cookie), [record], answer);
      }
      this.context!.answer(held.group, answer);
    }
    return done;
  }

  /**
   * iommufd_fault_destroy: INVALID to every group still queued or read and unanswered. Detach and replace
   * need no call here: the fault path answers INVALID to the groups of the attachment that went away.
   */
  destroy(): void {
    for (const held of [...this.deliver, ...this.response.values()])
      if (live(held)) this.context!.answer(held.group, 'INVALID');
    this.deliver.length = 0;
    this.response.clear();
  }

  describe(): HandlerInfo {
    return {
      type: this.type,
      categories: null,
      faultId: this.id,
      queued: this.readable(),
      awaitingResponse: this.awaitingResponse(),
      codes: ['SUCCESS', 'INVALID'],
    };
  }

  private emit(
    kind: 'iommufd.read' | 'iommufd.response',
    held: Held,
    cookie: number,
    records: CarriedRecord[],
    code: ResponseCode = 'SUCCESS',
  ): void {
    const { group } = held;
    const common = {
      fault: this.id,
      device: group.device.id,
      cookie,
      group: group.id,
      flows: flowIds(group.faults.toArray()),
      records,
    };
    if (kind === 'iommufd.read') this.env.bus.emit({ kind, ...common });
    else this.env.bus.emit({ kind, ...common, code });
  }

  /** xa_alloc with XA_FLAGS_ALLOC1: the lowest cookie not in use. */
  private freeCookie(): number {
    let cookie = 1;
    while (this.response.has(cookie)) cookie++;
    return cookie;
  }

  /** Forgets groups that were answered without the queue (detach, replace, reset). */
  private prune(): void {
    for (let i = this.deliver.length - 1; i >= 0; i--) if (!live(this.deliver[i]!)) this.deliver.splice(i, 1);
    for (const [cookie, held] of this.response) if (!live(held)) this.response.delete(cookie);
  }
}
