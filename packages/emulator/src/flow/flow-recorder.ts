/**
 * Starts and ends fault flows (fault-flow.ts). Ids come from one counter per system, in the order faults
 * happen, so the same config and seed give the same ids. Ending a flow records its latency and each hop
 * in the metrics, and hands its anatomy record to whoever listens (`flow.ended`).
 *
 * It also remembers which flow resolved each page, per address space, so that when a MAP handler's
 * eviction, an munmap or a reclaim takes the page away and a later fault brings it back, the later flow
 * says which flow it replaces and why.
 */
import type { Metrics, ScopeMetrics } from '../metrics/metrics';
import type { EventBus } from '../sim/event-bus';
import {
  FaultFlow,
  type FlowMechanism,
  type FlowOutcome,
  HOPS,
  type HandlerCosts,
  NO_HOP,
  type PageGone,
} from './fault-flow';

/** Pages whose resolving flow is remembered after they went away, per space (oldest forgotten first). */
const GONE_LIMIT = 65_536;

interface Gone {
  flow: number;
  because: PageGone;
}

export class FlowRecorder {
  private nextId = 1;
  /** Address space (a process or a domain) → page → the flow that resolved it. */
  private readonly resolvedBy = new Map<object, Map<number, number>>();
  private readonly gone = new Map<object, Map<number, Gone>>();

  constructor(
    private readonly bus: EventBus,
    private readonly metrics: Metrics,
  ) {}

  start(
    mechanism: FlowMechanism,
    transaction: number | null,
    iommu: string,
    device: string,
    pasid: number,
    page: number,
    perm: number,
    stage: 1 | 2 | null,
    fault: string,
    startNs: number,
    scopes: readonly ScopeMetrics[],
  ): FaultFlow {
    this.metrics.series.flowStarted();
    return new FaultFlow(
      this.nextId++,
      mechanism,
      transaction,
      iommu,
      device,
      pasid,
      page,
      perm,
      stage,
      fault,
      startNs,
      scopes,
    );
  }

  /** Ends a flow at the end of its last hop. */
  end(flow: FaultFlow, outcome: FlowOutcome): void {
    if (flow.outcome !== null) return;
    flow.outcome = outcome;
    flow.endNs = flow.atNs;
    const hops = this.metrics.hopLatency;
    for (let i = 0; i < HOPS.length; i++) if (flow.hopNs[i]! >= 0) hops[i]!.record(flow.hopNs[i]!);
    const recoverable = flow.mechanism !== 'unrecoverable';
    for (const scope of flow.scopes) {
      scope.faults.flows.count(flow);
      // Fault latency is the flow's, end to end: translation failed → DMA resumed (or failed).
      if (recoverable) scope.faults.latency.record(flow.latencyNs);
    }
    if (this.bus.wants('flow.ended')) this.bus.emit({ kind: 'flow.ended', ...flow.toRecord() });
  }

  /** Ends a flow early at `atNs`, closing the hop it was in (a discard, a reset, a terminated stall). */
  endAt(flow: FaultFlow, atNs: number, outcome: FlowOutcome): void {
    if (flow.outcome !== null) return;
    if (flow.waitingFor !== NO_HOP) flow.hop(flow.waitingFor, atNs, NO_HOP);
    this.end(flow, outcome);
  }

  /** A handler made `page` of `space` resident for `flow`: remember it, and whether it replaces an earlier flow. */
  resolved(flow: FaultFlow, space: object, page: number): void {
    const gone = this.gone.get(space)?.get(page);
    if (gone !== undefined) {
      flow.replaces = gone;
      this.gone.get(space)!.delete(page);
    }
    let pages = this.resolvedBy.get(space);
    if (pages === undefined) this.resolvedBy.set(space, (pages = new Map()));
    pages.set(page, flow.id);
  }

  /** Pages [start, end) of `space` went away (eviction, munmap, reclaim). */
  pagesGone(space: object, startPage: number, endPage: number, because: PageGone): void {
    const pages = this.resolvedBy.get(space);
    if (pages === undefined || pages.size === 0) return;
    let gone = this.gone.get(space);
    if (gone === undefined) this.gone.set(space, (gone = new Map()));
    const move = (page: number, flow: number) => {
      pages.delete(page);
      gone.set(page, { flow, because });
      if (gone.size > GONE_LIMIT) gone.delete(gone.keys().next().value!);
    };
    // Walk whichever is smaller: the range or the pages this space has resolved.
    if (endPage - startPage <= pages.size) {
      for (let page = startPage; page < endPage; page++) {
        const flow = pages.get(page);
        if (flow !== undefined) move(page, flow);
      }
    } else {
      for (const [page, flow] of pages) if (page >= startPage && page < endPage) move(page, flow);
    }
  }

  /** The space itself is gone (process exit, domain freed): forget it. */
  spaceGone(space: object): void {
    this.resolvedBy.delete(space);
    this.gone.delete(space);
  }
}

/** Handler cost breakdown with every part zero, for a handler to add to. */
export function newHandlerCosts(fixedNs: number): HandlerCosts {
  return { fixedNs, mmFaultNs: 0, mapNs: 0, evictionNs: 0, guestNs: 0 };
}
