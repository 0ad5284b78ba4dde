/** The built-in studies, by name (issue 16 lists five; the others are still to come). */
import type { StudySpec } from '@iommu-lab/wire';
import { iotlbReach } from './iotlb-reach';
import { kernelProfiles } from './kernel-profiles';
import { pinningVsOnDemand } from './pinning-vs-on-demand';
import { priCredits } from './pri-credits';

export const BUILTIN_STUDIES: Record<string, () => StudySpec> = {
  'pinning-vs-on-demand': pinningVsOnDemand,
  'pri-credits': priCredits,
  'iotlb-reach': () => iotlbReach(),
  'kernel-profiles': kernelProfiles,
};
