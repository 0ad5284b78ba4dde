/**
 * The MAP handler of the proposal: page tables managed by explicit map calls (a DMA domain without
 * pinning, e.g. VFIO passthrough of a VM) are filled on demand. A fault inside the backing region (for
 * example the VM's RAM) maps that page; the pages it keeps mapped (and so pinned) never exceed the pin
 * budget: past it, the least recently mapped page is unmapped (with its IOTLB and ATC invalidation)
 * first. Backing frames are allocated once per page and kept, as a VM's RAM is, so an evicted page comes
 * back with its contents.
 */
import { formatAddress } from '../../address';
import { DmaDomain } from '../../domain/dma-domain';
import type { Domain } from '../../domain/domain';
import { NestedDomain } from '../../domain/nested-domain';
import type { LatencyModel } from '../../latency/latency-model';
import type { PhysicalMemory } from '../../memory/physical-memory';
import type { EventBus } from '../../sim/event-bus';
import type { IopfGroup } from '../iopf-group';
import type { PageRequest, ResponseCode } from '../page-request';
import type { FaultHandler, HandlerContext, HandlerInfo } from './fault-handler';
import type { HandlerCosts } from '../../flow/fault-flow';

export interface MapRegion {
  startPage: number;
  pages: number;
  /** First frame of a fixed backing; undefined: frames allocated on first use. */
  physPage: number | undefined;
  perms: number;
}

interface Mapped {
  domain: DmaDomain;
  page: number;
  /** The fault flow that mapped it. */
  flow: number | null;
}

export class MapFaultHandler implements FaultHandler {
  readonly type = 'map';
  readonly categories = ['MAP'] as const;
  /** Frames backing the region, by page (allocated on first use when the region has no fixed backing). */
  private readonly backing = new Map<number, number>();
  /** Pages mapped by this handler, least recently mapped first. */
  private readonly lru = new Map<string, Mapped>();
  evictions = 0;
  mapped = 0;

  constructor(
    readonly region: MapRegion,
    readonly pinBudgetPages: number,
    private readonly memory: PhysicalMemory,
    private readonly latency: LatencyModel,
    private readonly bus: EventBus,
  ) {}

  get pinned(): number {
    return this.lru.size;
  }

  handle(group: IopfGroup, context: HandlerContext): boolean {
    const target = group.domain instanceof NestedDomain ? group.domain.parent : group.domain;
    if (!(target instanceof DmaDomain)) return false;
    let costNs = this.latency.handlerNs;
    const costs = group.startCosts(costNs);
    let code: ResponseCode = 'SUCCESS';
    for (let i = 0; i < group.faults.size; i++) {
      const fault = group.faults.at(i);
      const result = this.mapOne(target, fault, context, costs);
      costNs += result.cost;
      if (result.status !== 'SUCCESS') {
        code = result.status;
        break;
      }
    }
    context.respondAfter(group, code, costNs);
    return true;
  }

  /** Unmaps everything this handler mapped and returns the backing frames (handler unregistered). */
  release(): void {
    for (const entry of [...this.lru.values()]) this.evict(entry, null, null);
    for (const pfn of this.backing.values()) this.memory.put(pfn);
    this.backing.clear();
  }

  *onDemandPages(domain: Domain): Iterable<number> {
    for (const entry of this.lru.values()) if (entry.domain === domain) yield entry.page;
  }

  describe(): HandlerInfo {
    return {
      type: this.type,
      categories: [...this.categories],
      region: {
        iova: formatAddress(this.region.startPage),
        size: this.region.pages * 4096,
        fixedBacking: this.region.physPage !== undefined,
      },
      pinBudgetPages: this.pinBudgetPages,
      pinned: this.pinned,
      mapped: this.mapped,
      evictions: this.evictions,
    };
  }

  private mapOne(
    domain: DmaDomain,
    fault: PageRequest,
    context: HandlerContext,
    costs: HandlerCosts,
  ): { status: ResponseCode; cost: number } {
    // The page to map is the stage-2 input: the IOVA itself, or for a nested stage-2 fault the guest physical page.
    const page = fault.stage2Page ?? fault.page;
    const offset = page - this.region.startPage;
    if (offset < 0 || offset >= this.region.pages) return { status: 'INVALID', cost: 0 };
    const key = `${domain.tag}:${page}`;
    if (domain.pageTable.firstMappedIn(page, 1) >= 0) {
      // Already mapped (another group got there first): just refresh its recency.
      const entry = this.lru.get(key);
      if (entry) {
        this.lru.delete(key);
        this.lru.set(key, entry);
      }
      return { status: 'SUCCESS', cost: 0 };
    }
    let cost = this.latency.mapFaultNs;
    costs.mapNs += this.latency.mapFaultNs;
    while (this.lru.size >= this.pinBudgetPages) {
      this.evict(this.lru.values().next().value!, fault, context);
      cost += this.latency.evictionNs;
      costs.evictionNs += this.latency.evictionNs;
    }
    const pfn = this.backingFrame(page, offset);
    // Allocation failure: the kernel answers FAILURE (reference §2, §11).
    if (pfn === undefined) return { status: 'FAILURE', cost };
    domain.map(page, pfn, 1, this.region.perms, '4K');
    const flow = fault.flow?.id ?? null;
    this.lru.set(key, { domain, page, flow });
    context.pageResolved(fault, domain, page, pfn);
    this.mapped++;
    if (this.bus.wants('handler.mapped')) {
      this.bus.emit({
        kind: 'handler.mapped',
        flow,
        domain: domain.id,
        iova: formatAddress(page),
        phys: formatAddress(pfn),
        pinned: this.lru.size,
      });
    }
    return { status: 'SUCCESS', cost };
  }

  private backingFrame(page: number, offset: number): number | undefined {
    if (this.region.physPage !== undefined) return this.region.physPage + offset;
    let pfn = this.backing.get(page);
    if (pfn === undefined) {
      pfn = this.memory.allocate();
      if (pfn !== undefined) this.backing.set(page, pfn);
    }
    return pfn;
  }

  /** Unmaps the least recently mapped page; `by` is the fault that needed the room (null on release). */
  private evict(entry: Mapped, by: PageRequest | null, context: HandlerContext | null): void {
    this.lru.delete(`${entry.domain.tag}:${entry.page}`);
    entry.domain.unmap(entry.page, 1);
    context?.pageGone(entry.domain, entry.page, entry.flow, 'evicted');
    this.evictions++;
    this.bus.emit({
      kind: 'handler.evicted',
      flow: entry.flow,
      by: by?.flow?.id ?? null,
      domain: entry.domain.id,
      iova: formatAddress(entry.page),
      pinned: this.lru.size,
    });
  }
}
