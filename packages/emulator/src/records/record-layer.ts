/**
 * Which layer wrote a record, from its layout's id (`<owner>.<record>`): the device (PCIe messages), the
 * IOMMU (VT-d, SMMUv3), the kernel (Linux structs), user space (the iommufd ABI). A flow's anatomy lists
 * its records layer by layer.
 */
export type RecordLayer = 'device' | 'iommu' | 'kernel' | 'user';

const LAYERS: Readonly<Record<string, RecordLayer>> = {
  pcie: 'device',
  vtd: 'iommu',
  smmuv3: 'iommu',
  linux: 'kernel',
  iommufd: 'user',
};

export function recordLayer(layoutId: string): RecordLayer {
  const layer = LAYERS[layoutId.slice(0, layoutId.indexOf('.'))];
  if (layer === undefined) throw new Error(`record layout ${layoutId} has no layer`);
  return layer;
}
