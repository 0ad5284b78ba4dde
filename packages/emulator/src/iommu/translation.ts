/**
 * The scratch record a translation fills in. One is allocated per caller and reused for every page, so
 * the translation path allocates nothing.
 */
import type { Domain } from '../domain/domain';
import { FAULT_NONE } from './fault-kind';

/** Where a translation came from; decides its cost. */
export const SOURCE_NONE = 0;
export const SOURCE_ATC = 1;
export const SOURCE_IOTLB = 2;
export const SOURCE_WALK = 3;
/** Identity (pass-through) domain: no lookup at all. */
export const SOURCE_IDENTITY = 4;
export const SOURCE_NAMES = ['none', 'atc', 'iotlb', 'walk', 'identity'] as const;
export type TranslationSource = Exclude<(typeof SOURCE_NAMES)[number], 'none'>;

export interface Translation {
  pfn: number;
  perms: number;
  leafLevel: number;
  source: number;
  /** Page-table entries read by the walk (0 on a cache hit). Nested walks count their 2D accesses. */
  walkAccesses: number;
  /** Whether an ATS translation request went to the IOMMU (ATC miss). */
  atsRequest: boolean;
  /** Simulated cost of this translation in ns, from the latency model. */
  costNs: number;
  /** FAULT_* code; FAULT_NONE when the translation succeeded. */
  fault: number;
  /** The stage whose tables failed: 1 (first level / stage 1) or 2 (second level / stage 2). */
  faultStage: 1 | 2;
  /** Stage permissions of a nested walk, kept to say which stage denied an access. */
  permsStage1: number;
  permsStage2: number;
  /** For a stage-2 fault of a nested domain: the stage-2 input (guest physical) page that failed. */
  stage2InputPage: number | undefined;
  domain: Domain | null;
}

export function newTranslation(): Translation {
  return {
    pfn: 0,
    perms: 0,
    leafLevel: 0,
    source: SOURCE_NONE,
    walkAccesses: 0,
    atsRequest: false,
    costNs: 0,
    fault: FAULT_NONE,
    faultStage: 1,
    permsStage1: 0,
    permsStage2: 0,
    stage2InputPage: undefined,
    domain: null,
  };
}
