/**
 * Starts and ends fault flows (fault-flow.ts). Ids come from one counter per system, in the order faults
 * happen, so the same config and seed give the same ids. Ending a flow records its latency and each hop
 * in the metrics, and hands its anatomy record to whoever listens (`flow.ended`).
 *
 * It also remembers which flow brought each frame in, so that when a MAP handler's eviction, an munmap or
 * a reclaim takes a page away and a later fault brings it back, the later flow says which flow it
 * replaces and why.
 */
import type { Metrics, ScopeMetrics } from '../metrics/metrics';
import type { EventBus } from '../sim/event-bus';
import { Pool } from '../sim/pool';
import { FaultFlow, type FlowMechanism, type FlowOutcome, HOPS, NO_HOP, type PageGone } from './fault-flow';

/** Pages whose resolving flow is remembered after they went away, per space (oldest forgotten first). */
const GONE_LIMIT = 65_536;

interface Gone {
  flow: number;
  because: PageGone;
}

export class FlowRecorder {
  private nextId = 1;
  /**
   * Frame → the flow that brought it in (0: none), so a munmap or reclaim, which knows its frames, can
   * say which flow's page it took: one preallocated array, nothing kept per fault.
   */
  private readonly frameFlow: Uint32Array;
  /** Address space (a process or a domain) → page gone → the flow that had resolved it and why it went. */
  private readonly gone = new Map<object, Map<number, Gone>>();
  private goneCount = 0;
  /** Flows are reused once done with (FaultFlow.reusable: PRI flows, whose holders are all counted). */
  private readonly pool = new Pool<FaultFlow>('fault flows', () => new FaultFlow());

  constructor(
    private readonly bus: EventBus,
    private readonly metrics: Metrics,
    frames: number,
  ) {
    this.frameFlow = new Uint32Array(frames);
  }

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
    // Only PRI flows are reused: their holders are all counted; the others are left to the collector.
    const reusable = mechanism === 'pri';
    const flow = (reusable ? this.pool.acquire() : new FaultFlow()).init(
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
    flow.reusable = reusable;
    return flow;
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
    this.reuseIfDone(flow);
  }

  /** Something keeps `flow` (a page request, an outstanding group, a retry's list): it is not reused before `letGo`. */
  hold(flow: FaultFlow): void {
    flow.holds++;
  }

  letGo(flow: FaultFlow): void {
    flow.holds--;
    this.reuseIfDone(flow);
  }

  private reuseIfDone(flow: FaultFlow): void {
    if (flow.reusable && flow.holds === 0 && flow.outcome !== null) this.pool.release(flow);
  }

  /** Flows in use now and made in all. */
  get poolUse(): { inUse: number; size: number } {
    return { inUse: this.pool.inUse, size: this.pool.size };
  }

  /** Ends a flow early at `atNs`, closing the hop it was in (a discard, a reset, a terminated stall). */
  endAt(flow: FaultFlow, atNs: number, outcome: FlowOutcome): void {
    if (flow.outcome !== null) return;
    if (flow.waitingFor !== NO_HOP) flow.hop(flow.waitingFor, atNs, NO_HOP);
    this.end(flow, outcome);
  }

  /**
   * `flow` made `page` of `space` resident (in frame `pfn`, or -1 when the frame is not the flow's own,
   * e.g. a guest mapping): remember it, and say which earlier flow it replaces if one had.
   */
  resolved(flow: FaultFlow, space: object, page: number, pfn: number): void {
    if (this.goneCount > 0) {
      const pages = this.gone.get(space);
      const gone = pages?.get(page);
      if (gone !== undefined) {
        flow.replaces = gone;
        pages!.delete(page);
        this.goneCount--;
      }
    }
    if (pfn >= 0 && pfn < this.frameFlow.length) this.frameFlow[pfn] = flow.id;
  }

  /** Frame `pfn`, backing `page` of `space`, went away (munmap, reclaim): the flow that brought it in is noted. */
  frameGone(space: object, page: number, pfn: number, because: PageGone): void {
    const flow = pfn >= 0 && pfn < this.frameFlow.length ? this.frameFlow[pfn]! : 0;
    if (flow === 0) return;
    this.frameFlow[pfn] = 0;
    this.pageGone(space, page, flow, because);
  }

  /** `page` of `space`, which flow `flow` had resolved, went away (a MAP handler's eviction). */
  pageGone(space: object, page: number, flow: number | null, because: PageGone): void {
    if (flow === null) return;
    let pages = this.gone.get(space);
    if (pages === undefined) this.gone.set(space, (pages = new Map()));
    if (!pages.has(page)) this.goneCount++;
    pages.set(page, { flow, because });
    if (pages.size > GONE_LIMIT) {
      pages.delete(pages.keys().next().value!);
      this.goneCount--;
    }
  }

  /** The space itself is gone (process exit): forget its pages. */
  spaceGone(space: object): void {
    this.goneCount -= this.gone.get(space)?.size ?? 0;
    this.gone.delete(space);
  }
}
