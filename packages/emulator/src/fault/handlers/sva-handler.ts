/**
 * The kernel's SVA fault handler (iommu_sva_iopf_handler / iommu_sva_handle_mm, drivers/iommu/iommu-sva.c,
 * reference §2): each fault of the group in order, resolved on the bound process like handle_mm_fault,
 * stopping at the first one that is not SUCCESS; one response for the group. It never answers FAILURE.
 */
import { SvaDomain } from '../../domain/sva-domain';
import type { LatencyModel } from '../../latency/latency-model';
import { PERM_RWX } from '../../pagetable/permissions';
import type { FaultCategory } from '../../profile/kernel-profile';
import type { IopfGroup } from '../iopf-group';
import { PAGE_REQUEST_PASID_VALID, type PageRequest, type ResponseCode } from '../page-request';
import type { FaultHandler, HandlerContext, HandlerInfo } from './fault-handler';

export class SvaFaultHandler implements FaultHandler {
  readonly type = 'sva';
  /** The cost of the fault `handleMm` last resolved: a result field, so a fault allocates no result object. */
  private mmCostNs = 0;

  constructor(
    readonly categories: readonly FaultCategory[] | null,
    private readonly latency: LatencyModel,
  ) {}

  handle(group: IopfGroup, context: HandlerContext): boolean {
    let costNs = this.latency.handlerNs;
    const costs = group.startCosts(costNs);
    let code: ResponseCode = 'SUCCESS';
    for (let i = 0; i < group.faults.size; i++) {
      const fault = group.faults.at(i);
      const status = this.handleMm(group, fault);
      costNs += this.mmCostNs;
      costs.mmFaultNs += this.mmCostNs;
      // The status is sticky: the first fault that fails decides the group's response.
      if (status !== 'SUCCESS') {
        code = status;
        break;
      }
    }
    context.respondAfter(group, code, costNs);
    return true;
  }

  describe(): HandlerInfo {
    return { type: this.type, categories: this.categories ? [...this.categories] : null };
  }

  /** One fault's status; its cost is left in `mmCostNs`. */
  private handleMm(group: IopfGroup, fault: PageRequest): ResponseCode {
    this.mmCostNs = 0;
    const domain = group.domain;
    if ((fault.flags & PAGE_REQUEST_PASID_VALID) === 0 || !(domain instanceof SvaDomain)) return 'INVALID';
    const process = domain.process;
    // mmget_not_zero fails on an exiting mm.
    if (process.exiting) return 'INVALID';
    // handle_mm_fault tells the flow recorder (through the process) which flow brought the page in.
    const outcome = process.handleMmFault(fault.page, fault.perm & PERM_RWX, fault.flow);
    switch (outcome) {
      case 'present':
        return 'SUCCESS';
      case 'minor':
        this.mmCostNs = this.latency.minorFaultNs;
        return 'SUCCESS';
      case 'major':
        this.mmCostNs = this.latency.majorFaultNs;
        return 'SUCCESS';
      default:
        // No VMA, an access the VMA does not allow, or VM_FAULT_ERROR.
        return 'INVALID';
    }
  }
}
