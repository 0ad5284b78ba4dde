/**
 * A guest's own fault handling for a nested domain's stage 1 (the vIOMMU driver inside the VM, in its
 * simplest form): the VMM injects a stage-1 fault into the guest, which maps the faulting guest address
 * linearly onto its guest physical region and answers (reference §4, nested routing).
 */
import { formatAddress } from '../../address';
import { NestedDomain } from '../../domain/nested-domain';
import type { LatencyModel } from '../../latency/latency-model';
import type { EventBus } from '../../sim/event-bus';
import type { IopfGroup } from '../iopf-group';
import type { ResponseCode } from '../page-request';
import type { FaultHandler, HandlerContext, HandlerInfo } from './fault-handler';
import type { MapRegion } from './map-handler';

export class GuestFaultHandler implements FaultHandler {
  readonly type = 'guest';
  readonly categories = ['BIND'] as const;
  mapped = 0;
  /** Stage-1 pages it mapped on demand (a later unmap may have removed some). */
  private readonly onDemand = new Set<number>();

  constructor(
    /** Guest virtual range → guest physical range (physPage is required here). */
    readonly region: MapRegion & { physPage: number },
    private readonly latency: LatencyModel,
    private readonly bus: EventBus,
  ) {}

  handle(group: IopfGroup, context: HandlerContext): boolean {
    const domain = group.domain;
    if (!(domain instanceof NestedDomain) || group.stage !== 1) return false;
    let costNs = this.latency.guestRoundTripNs + this.latency.handlerNs;
    const costs = group.startCosts(this.latency.handlerNs);
    costs.guestNs = this.latency.guestRoundTripNs;
    let code: ResponseCode = 'SUCCESS';
    for (let i = 0; i < group.faults.size; i++) {
      const fault = group.faults.at(i);
      const offset = fault.page - this.region.startPage;
      if (offset < 0 || offset >= this.region.pages) {
        code = 'INVALID';
        break;
      }
      if (domain.stage1.firstMappedIn(fault.page, 1) >= 0) continue;
      const guestPage = this.region.physPage + offset;
      domain.map(fault.page, guestPage, 1, this.region.perms, '4K');
      this.onDemand.add(fault.page);
      context.pageResolved(fault, domain, fault.page, -1);
      this.mapped++;
      costNs += this.latency.mapFaultNs;
      costs.mapNs += this.latency.mapFaultNs;
      if (this.bus.wants('handler.mapped')) {
        this.bus.emit({
          kind: 'handler.mapped',
          flow: fault.flow?.id ?? null,
          domain: domain.id,
          iova: formatAddress(fault.page),
          phys: formatAddress(guestPage),
          pinned: 0,
        });
      }
    }
    context.respondAfter(group, code, costNs);
    return true;
  }

  onDemandPages(): Iterable<number> {
    return this.onDemand;
  }

  describe(): HandlerInfo {
    return {
      type: this.type,
      categories: [...this.categories],
      region: {
        iova: formatAddress(this.region.startPage),
        size: this.region.pages * 4096,
        guestPhys: formatAddress(this.region.physPage),
      },
      mapped: this.mapped,
    };
  }
}
