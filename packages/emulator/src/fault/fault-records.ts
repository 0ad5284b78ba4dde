/**
 * What each step of a fault writes, byte for byte, for the events and flows that carry it (issue 14): the
 * Page Request message the device sends, the queue entry the IOMMU writes (VT-d PRQ descriptor, SMMUv3
 * PRIQ entry, or the event record of a stall), the struct iommu_fault the driver reports, the struct
 * iommu_page_response the iopf core answers with, the command the driver writes (VT-d page group response,
 * SMMUv3 CMD_PRI_RESP or CMD_RESUME) and the PRG Response message the device receives. The layouts live
 * with what defines them; this file picks the right one for a request's IOMMU, profile and transport.
 * Built only when an event or a flow listener will read them, never on the fault path itself.
 */
import {
  PCIE_PAGE_REQUEST,
  PCIE_PRG_RESPONSE,
  pciePageRequest,
  pciePrgResponse,
} from '../device/pcie-messages';
import { NO_PASID } from '../domain/domain';
import { SMMU_CMD_RESUME, SMMU_EVENT_RECORD, smmuCmdResume, smmuEventRecord } from '../iommu/smmuv3';
import { type CarriedRecord, carryRecord } from '../records/bit-layout';
import {
  iommuFaultLayout,
  iommuPageResponseLayout,
  linuxIommuFault,
  linuxPageResponse,
} from './linux-fault-structs';
import {
  PAGE_REQUEST_PASID_VALID,
  PAGE_REQUEST_RESPONSE_NEEDS_PASID,
  type PageRequest,
  type ResponseCode,
} from './page-request';

/** The PCIe Page Request message a PRI request (or Stop Marker) went out as. */
export function pageRequestMessage(request: PageRequest): CarriedRecord {
  return carryRecord(PCIE_PAGE_REQUEST, pciePageRequest(request));
}

/** The entry the driver reads for the request: its PRI queue entry, or the stall's event record. */
export function queueEntryOf(request: PageRequest): CarriedRecord {
  if (request.transport === 'stall') return carryRecord(SMMU_EVENT_RECORD, smmuEventRecord(request));
  return request.device.iommu.model.pageRequestRecord(request);
}

/** struct iommu_fault as the driver reports the request to the iopf core, in its profile's layout. */
export function iommuFaultOf(request: PageRequest): CarriedRecord {
  const { profile } = request.device.iommu;
  return carryRecord(iommuFaultLayout(profile), linuxIommuFault(request, profile));
}

/**
 * struct iommu_page_response the iopf core hands the driver for the group the request ends: the PASID
 * goes back when the request had one and asked for it (iopf_group_response).
 */
export function pageResponseOf(request: PageRequest, code: ResponseCode): CarriedRecord {
  const { profile } = request.device.iommu;
  const asked = PAGE_REQUEST_PASID_VALID | PAGE_REQUEST_RESPONSE_NEEDS_PASID;
  const bytes = linuxPageResponse(
    { pasid: request.pasid, grpid: request.grpid, code, pasidValid: (request.flags & asked) === asked },
    profile,
  );
  return carryRecord(iommuPageResponseLayout(profile), bytes);
}

/** The command the driver writes to answer: the PRI response of its family, or CMD_RESUME for a stall. */
export function responseCommandOf(request: PageRequest, code: ResponseCode): CarriedRecord {
  if (request.transport === 'stall')
    return carryRecord(
      SMMU_CMD_RESUME,
      smmuCmdResume({ sid: request.device.rid, stag: request.grpid, resp: code }),
    );
  return request.device.iommu.model.pageResponseRecord(request, code);
}

/** The PRG Response message the device receives; it carries the PASID when the function requires one. */
export function prgResponseMessage(request: PageRequest, code: ResponseCode): CarriedRecord {
  const pasid = request.device.caps.prgResponsePasidRequired ? request.pasid : NO_PASID;
  return carryRecord(
    PCIE_PRG_RESPONSE,
    pciePrgResponse({ rid: request.device.rid, pasid, grpid: request.grpid, code }),
  );
}
