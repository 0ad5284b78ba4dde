/**
 * Every byte-exact record the lab writes, by id: what GET /records/layouts serves so that a client can draw
 * the records events and flows carry. Each layout lives with what defines it (the family model, the PCIe
 * messages, the Linux structs, the iommufd ABI); this is only the list.
 */
import { PCIE_PAGE_REQUEST, PCIE_PRG_RESPONSE } from '../device/pcie-messages';
import { FAULT_LAYOUTS, IOMMU_FAULT_PAGE_REQUEST, RESPONSE_LAYOUTS } from '../fault/linux-fault-structs';
import {
  SMMU_CMD_PRI_RESP,
  SMMU_CMD_RESUME,
  SMMU_EVENT_RECORD,
  SMMU_EVENT_RECORD_FETCH,
  SMMU_PRIQ_ENTRY,
} from '../iommu/smmuv3';
import { VTD_FAULT_RECORD, VTD_PAGE_GROUP_RESPONSE, VTD_PAGE_REQUEST_DESCRIPTOR } from '../iommu/vtd';
import { IOMMUFD_VEVENT_HEADER, IOMMU_HWPT_PAGE_RESPONSE, IOMMU_HWPT_PGFAULT } from '../iommufd/uapi';
import { fail } from '../errors';
import {
  type CarriedRecord,
  type LayoutDescription,
  type RecordLayout,
  carryRecord,
  describeLayout,
  fromHex,
} from './bit-layout';

/** In the order a PRI fault meets them: the device's message, the IOMMU's records, Linux's, user space's. */
export const RECORD_LAYOUTS: readonly RecordLayout[] = [
  PCIE_PAGE_REQUEST,
  PCIE_PRG_RESPONSE,
  VTD_PAGE_REQUEST_DESCRIPTOR,
  VTD_PAGE_GROUP_RESPONSE,
  VTD_FAULT_RECORD,
  SMMU_PRIQ_ENTRY,
  SMMU_EVENT_RECORD,
  SMMU_EVENT_RECORD_FETCH,
  SMMU_CMD_RESUME,
  SMMU_CMD_PRI_RESP,
  ...Object.values(FAULT_LAYOUTS),
  IOMMU_FAULT_PAGE_REQUEST,
  ...Object.values(RESPONSE_LAYOUTS),
  IOMMU_HWPT_PGFAULT,
  IOMMU_HWPT_PAGE_RESPONSE,
  IOMMUFD_VEVENT_HEADER,
];

/** The layouts as the API serves them. */
export function describeLayouts(): LayoutDescription[] {
  return RECORD_LAYOUTS.map(describeLayout);
}

const LAYOUT_BY_ID: ReadonlyMap<string, RecordLayout> = new Map(
  RECORD_LAYOUTS.map((layout) => [layout.id, layout]),
);

/**
 * A record kept as its layout id and hex (a saved fault log) as an event carries it: its layout found by
 * id, its fields read by carryRecord as the events' are. An unknown layout, text that is not hex or bytes
 * not the layout's size are EINVAL.
 */
export function carryStoredRecord(layoutId: string, hex: string): CarriedRecord {
  return carryRecord(layoutById(layoutId), fromHex(hex));
}

/** The layout of a record by its id (a carried record's `layout`). */
export function layoutById(layoutId: string): RecordLayout {
  const layout = LAYOUT_BY_ID.get(layoutId);
  if (layout === undefined)
    fail('EINVAL', `no record layout "${layoutId}" (GET /records/layouts lists them).`, {
      reason: 'unknown-layout',
    });
  return layout;
}
