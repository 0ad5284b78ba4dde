/**
 * What a device can do, as its config space (PCIe) or firmware description (platform) says. Defaults for
 * sizes without a source are labelled assumptions.
 */
import type { CacheGeometry } from '../cache/translation-cache';

export type DeviceKind = 'pci' | 'platform';

export interface DeviceCapabilities {
  kind: DeviceKind;
  /** PCIe Address Translation Services: the device caches translations in its ATC. */
  ats: boolean;
  /** PCIe Page Request Interface with its Outstanding Page Request Capacity; null when absent. */
  pri: { capacity: number } | null;
  /** PASID capability width (0 = no PASID), at most 20 (PCIe PASID cap, Max PASID Width [12:8]). */
  pasidBits: number;
  /** PRI status "PRG Response PASID Required" (VT-d needs it to enable IOPF with PASID, reference §3). */
  prgResponsePasidRequired: boolean;
  /** A platform device behind SMMUv3 that tolerates stalled transactions. */
  stall: boolean;
  /** SMMUv3 StreamIDs of the master; Linux enables IOPF only with exactly one. */
  streamIds: number;
  /** The device resolves its own I/O page faults (device-specific fault handling, no PRI or stall). */
  managesOwnFaults: boolean;
  /** ATC geometry (used when ats). Assumption: 64 entries, 4-way, LRU. */
  atc: CacheGeometry;
}

export const DEFAULT_ATC: CacheGeometry = { entries: 64, ways: 4, replacement: 'lru' };
