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
  readonly pending = new Set<IopfGroup>();

  constructor(readonly requester: PriRequester) {}
}
