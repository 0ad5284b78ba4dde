/**
 * Hardware capabilities of an IOMMU instance. Defaults per family live in vtd.ts and smmuv3.ts; a config
 * overrides any field. Sizes without a cited source are labelled as assumptions there.
 */
import type { PageSizeName } from '../address';
import type { CacheGeometry } from '../cache/translation-cache';

export type IommuFamily = 'vtd' | 'smmuv3';

export interface IommuCapabilities {
  /** Input address width: 48 bits (4-level tables) or 57 bits (5-level). */
  addressWidth: 48 | 57;
  /** PASID (VT-d) / SubstreamID (SMMUv3) width supported by the IOMMU, 0..20. */
  pasidBits: number;
  /** Page Request Interface: VT-d page request queue, SMMUv3 PRI queue. */
  pri: boolean;
  /** SMMUv3 stall model (SMMU_IDR0.STALL_MODEL allows stalling); always false on VT-d. */
  stall: boolean;
  /** Nested (stage 1 over stage 2) translation. */
  nesting: boolean;
  /** Shared virtual addressing: stage-1 tables in CPU format bound to a process. */
  sva: boolean;
  /** Leaf sizes the IOMMU's tables may use. */
  pageSizes: PageSizeName[];
  iotlb: CacheGeometry;
  /** Depth of the hardware page-request queue (VT-d PRQ) or PRI queue (SMMUv3 PRIQ), in entries. */
  pageRequestQueueDepth: number;
  /** Depth of the fault/event record queue: VT-d fault recording registers, SMMUv3 event queue. */
  faultQueueDepth: number;
}

/** Levels of a table for an input width (reference §8: 48 bits = 4 levels, 57 = 5). */
export function levelsFor(addressWidth: 48 | 57): 4 | 5 {
  return addressWidth === 57 ? 5 : 4;
}
