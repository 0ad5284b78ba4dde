/** The built-in studies, by name, in the order (issue 16). */
import type { StudySpec } from '@iommu-lab/wire';
import { iotlbReach } from './iotlb-reach';
import { kernelProfiles } from './kernel-profiles';
import { nestedCost } from './nested-cost';
import { pinningVsOnDemand } from './pinning-vs-on-demand';
import { priCredits } from './pri-credits';

export const BUILTIN_STUDIES: Record<string, () => StudySpec> = {
  'pinning-vs-on-demand': pinningVsOnDemand,
  'pri-credits': priCredits,
  'iotlb-reach': () => iotlbReach(),
  'nested-cost': nestedCost,
  'kernel-profiles': kernelProfiles,
};
