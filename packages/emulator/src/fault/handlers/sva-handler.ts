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
import { newHandlerCosts } from '../../flow/flow-recorder';

export class SvaFaultHandler implements FaultHandler {
  readonly type = 'sva';

  constructor(
    readonly categories: readonly FaultCategory[] | null,
    private readonly latency: LatencyModel,
  ) {}

  handle(group: IopfGroup, context: HandlerContext): boolean {
    let costNs = this.latency.handlerNs;
    const costs = (group.costs = newHandlerCosts(costNs));
    let code: ResponseCode = 'SUCCESS';
    for (const fault of group.faults) {
      const { status, cost } = this.handleMm(group, fault);
      costNs += cost;
      costs.mmFaultNs += cost;
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

  private handleMm(group: IopfGroup, fault: PageRequest): { status: ResponseCode; cost: number } {
    const domain = group.domain;
    if ((fault.flags & PAGE_REQUEST_PASID_VALID) === 0 || !(domain instanceof SvaDomain))
      return { status: 'INVALID', cost: 0 };
    const process = domain.process;
    // mmget_not_zero fails on an exiting mm.
    if (process.exiting) return { status: 'INVALID', cost: 0 };
    // handle_mm_fault tells the flow recorder (through the process) which flow brought the page in.
    const outcome = process.handleMmFault(fault.page, fault.perm & PERM_RWX, fault.flow);
    switch (outcome) {
      case 'present':
        return { status: 'SUCCESS', cost: 0 };
      case 'minor':
        return { status: 'SUCCESS', cost: this.latency.minorFaultNs };
      case 'major':
        return { status: 'SUCCESS', cost: this.latency.majorFaultNs };
      default:
        // No VMA, an access the VMA does not allow, or VM_FAULT_ERROR.
        return { status: 'INVALID', cost: 0 };
    }
  }
}
