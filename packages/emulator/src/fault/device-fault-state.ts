/**
 * Fault state kept per device (struct iommu_fault_param plus the device's own PRI bookkeeping): the
 * partial requests waiting for the last of their group, the groups handed to a handler and not yet
 * answered, and the PRI requester's credits and outstanding PRGs.
 */
import type { PriRequester } from '../device/pri-requester';
import type { IopfGroup } from './iopf-group';
import type { PageRequest } from './page-request';

export class DeviceFaultState {
  partial: PageRequest[] = [];
  /** Groups handed to a handler and not yet answered, in no order (a swap on removal keeps it O(1)). */
  private readonly pending: IopfGroup[] = [];

  constructor(readonly requester: PriRequester) {}

  addPending(group: IopfGroup): void {
    group.pendingSlot = this.pending.push(group) - 1;
  }

  removePending(group: IopfGroup): void {
    const slot = group.pendingSlot;
    if (slot < 0) return;
    const moved = this.pending.pop()!;
    if (moved !== group) {
      this.pending[slot] = moved;
      moved.pendingSlot = slot;
    }
    group.pendingSlot = -1;
  }

  /** The pending groups in the order they were built (by id), for a flush to answer in that order. */
  pendingInOrder(): IopfGroup[] {
    return [...this.pending].sort((a, b) => a.id - b.id);
  }
}
