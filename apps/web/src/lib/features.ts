/**
 * The kernel's feature ordering (seed-5.13 and the proposal; iommu-reference.md, "Feature/attach"):
 * IOPF must be on before SVA, and SVA off before IOPF goes off; a device that handles its own faults
 * may enable SVA without IOPF. The dashboard only explains the rule; the API decides and refuses.
 */
import type { Feature } from './types';

export const FEATURES: Feature[] = ['IOPF', 'SVA', 'AUX'];

export const ORDERING_RULE = 'Enable IOPF before SVA; disable SVA before IOPF.';

/** Why the API is likely to refuse this toggle, or null when the ordering allows it. */
export function orderingHint(
  feature: Feature,
  enable: boolean,
  enabled: readonly string[],
  managesOwnFaults = false,
): string | null {
  if (enable && feature === 'SVA' && !enabled.includes('IOPF') && !managesOwnFaults) {
    return 'SVA needs IOPF enabled first.';
  }
  if (!enable && feature === 'IOPF' && enabled.includes('SVA')) {
    return 'Disable SVA before IOPF.';
  }
  return null;
}
