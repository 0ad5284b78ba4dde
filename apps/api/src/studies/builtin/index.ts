/** The built-in studies, by name (issue 16 lists five; the others are still to come). */
import type { StudySpec } from '@iommu-lab/wire';
import { iotlbReach } from './iotlb-reach';

export const BUILTIN_STUDIES: Record<string, () => StudySpec> = {
  'iotlb-reach': () => iotlbReach(),
};
