/**
 * A vEVENTQ (IOMMUFD_OBJ_VEVENTQ, drivers/iommu/iommufd/eventq.c and driver.c, reference §4): the queue of
 * one type of a vIOMMU through which the host forwards hardware events of the guest's devices (SMMUv3:
 * the raw 32-byte event record, the StreamID replaced by the device's virtual ID).
 * - iommufd_viommu_report_event: once `depth` events wait, a new one is lost and the queue's one
 *   lost-events header goes to the tail instead (taking a sequence number, so later events show a gap).
 * - iommufd_vevent_handler: a lost-events header at the tail is taken off when the next entry comes, so it
 *   shows only while nothing came after it; every entry takes the next sequence number, wrapping at INT_MAX.
 * - read() copies whole entries, header then data; one that does not fit stays for the next read. A
 *   lost-events header is 8 bytes with no data and does not count against the depth.
 */
import { fail } from '../errors';
import { encodeRecord } from '../records/bit-layout';
import { IOMMUFD_VEVENT_HEADER, IOMMU_VEVENTQ_FLAG_LOST_EVENTS } from './uapi';

const HEADER_BYTES = IOMMUFD_VEVENT_HEADER.bytes;
const INT_MAX = 0x7fff_ffff;

interface Entry {
  sequence: number;
  /** null: the lost-events header. */
  data: Uint8Array | null;
}

export class VeventQueue {
  private readonly deliver: Entry[] = [];
  /** Events waiting (num_events): lost-events headers do not count. */
  private waiting = 0;
  private sequence = 0;
  /** Events lost to a full queue, for describe(). */
  lost = 0;
  /** Told when the queue goes from nothing to read to something (poll: EPOLLIN). */
  onReadable: (() => void) | null = null;

  constructor(
    readonly id: number,
    readonly viommuId: number,
    readonly type: number,
    readonly depth: number,
    /** Size of one event's data for the type (struct iommu_vevent_arm_smmuv3: 32). */
    readonly dataBytes: number,
  ) {}

  /**
   * iommufd_viommu_report_event: queues a copy of `data`, or the lost-events header when full; whether it
   * was lost, and the sequence number the entry took.
   */
  report(data: Uint8Array): { lost: boolean; sequence: number } {
    const wasEmpty = this.deliver.length === 0;
    const last = this.deliver[this.deliver.length - 1];
    if (last !== undefined && last.data === null) this.deliver.pop();
    const lost = this.waiting === this.depth;
    const sequence = this.nextSequence();
    if (lost) {
      this.lost++;
      this.deliver.push({ sequence, data: null });
    } else {
      this.waiting++;
      this.deliver.push({ sequence, data: data.slice() });
    }
    if (wasEmpty) this.onReadable?.();
    return { lost, sequence };
  }

  /** Entries waiting to be read, the lost-events header included. */
  readable(): number {
    return this.deliver.length;
  }

  /** read(): the whole entries that fit in `count` bytes, header then data. */
  read(count: number): Uint8Array {
    if (!Number.isSafeInteger(count) || count < 0)
      fail('EINVAL', `a read size must be a whole number of bytes, not ${count}.`, { reason: 'size' });
    let fits = 0;
    let bytes = 0;
    for (; fits < this.deliver.length; fits++) {
      const size = HEADER_BYTES + (this.deliver[fits]!.data === null ? 0 : this.dataBytes);
      if (bytes + size > count) break;
      bytes += size;
    }
    const out = new Uint8Array(bytes);
    let at = 0;
    for (const entry of this.deliver.splice(0, fits)) {
      const flags = entry.data === null ? IOMMU_VEVENTQ_FLAG_LOST_EVENTS : 0;
      out.set(encodeRecord(IOMMUFD_VEVENT_HEADER, { flags, sequence: entry.sequence }), at);
      at += HEADER_BYTES;
      if (entry.data === null) continue;
      out.set(entry.data, at);
      at += entry.data.length;
      this.waiting--;
    }
    return out;
  }

  describe(): { id: number; viommu: number; type: number; depth: number; waiting: number; lost: number } {
    return {
      id: this.id,
      viommu: this.viommuId,
      type: this.type,
      depth: this.depth,
      waiting: this.waiting,
      lost: this.lost,
    };
  }

  private nextSequence(): number {
    const sequence = this.sequence;
    this.sequence = (this.sequence + 1) & INT_MAX;
    return sequence;
  }
}
