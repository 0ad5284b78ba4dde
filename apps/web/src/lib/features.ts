/**
 * The kernel's feature ordering (seed-5.13 and the proposal; iommu-reference.md, "Feature/attach"):
 * IOPF must be on before SVA, and SVA off before IOPF goes off; a device that handles its own faults
 * may enable SVA without IOPF. The dashboard only explains the rule; the API decides and refuses.
 */
import type { Feature } from '@iommu-lab/client';

export const FEATURES: Feature[] = ['IOPF', 'SVA', 'AUX'];

/**
 * What a device row offers under its IOMMU's kernel profile (iommu-reference.md, profile table):
 * seed-5.13 has feature calls; mainline has none (IOPF is switched on, reference-counted, by attaching a
 * fault-capable domain), so it shows that state instead of toggles it would refuse; the proposal keeps the
 * feature calls and adds the fault categories the driver supports.
 */
export function deviceControls(profile: string): {
  toggles: boolean;
  implicitIopf: boolean;
  categories: boolean;
} {
  return {
    toggles: profile !== 'mainline',
    implicitIopf: profile === 'mainline',
    categories: profile === 'proposal',
  };
}

/** "sva-app at PASID 1" / "guest at the RID": one attachment as a person reads it. */
export function describeAttach(attach: { domain: string; pasid: number | null }): string {
  return `${attach.domain} at ${attach.pasid === null ? 'the RID' : `PASID ${attach.pasid}`}`;
}

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
