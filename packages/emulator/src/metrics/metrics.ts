/**
 * Counters and histograms, kept for the whole system, per device and per IOMMU. The DMA path updates
 * them as it goes (plain number fields: no allocation); `snapshot` turns them into plain JSON.
 */
import { FlowCounters } from '../flow/flow-counters';
import { HOPS, type HopName } from '../flow/fault-flow';
import { FAULT_KIND_NAMES, type FaultKind } from '../iommu/fault-kind';
import { Histogram, type HistogramSummary } from './histogram';
import { SimSeries } from './sim-series';

/** Counters of the I/O page fault path (recoverable faults). */
export class FaultCounters {
  pageRequests = 0;
  stopMarkers = 0;
  groups = 0;
  readonly responses = { SUCCESS: 0, INVALID: 0, FAILURE: 0 };
  unexpectedResponses = 0;
  // Fixed keys (not Maps): counted once per page request on the fault path.
  readonly byCategory = { BIND: 0, MAP: 0, none: 0 };
  readonly byStage = { stage1: 0, stage2: 0 };
  readonly byKind: Record<FaultKind, number> = Object.fromEntries(
    FAULT_KIND_NAMES.slice(1).map((kind) => [kind, 0]),
  ) as Record<FaultKind, number>;
  /** "cause:code", e.g. "handler:SUCCESS", "no-handler:INVALID", "timeout:INVALID". */
  readonly outcomes = new Map<string, number>();
  creditWaits = 0;
  stalls = 0;
  readonly resumes = { RETRY: 0, ABORT: 0 };
  readonly deviceHandled = new Map<string, number>();
  readonly queueOverflows = new Map<string, number>();
  /** Page request queue overflow storms that stopped the system (fault/livelock-detector.ts): 0 or 1. */
  livelocks = 0;
  /** Fault flows ended, by mechanism and outcome. */
  readonly flows = new FlowCounters();
  /** A recoverable fault's flow end to end: translation failed → DMA resumed or failed (flow/fault-flow.ts). */
  readonly latency = new Histogram();
  /** Group built to group answered, in the kernel. */
  readonly handlingLatency = new Histogram();
  readonly creditWaitLatency = new Histogram();

  snapshot(): FaultSnapshot {
    return {
      pageRequests: this.pageRequests,
      stopMarkers: this.stopMarkers,
      groups: this.groups,
      responses: { ...this.responses },
      unexpectedResponses: this.unexpectedResponses,
      byCategory: { ...this.byCategory },
      byStage: { ...this.byStage },
      byKind: Object.fromEntries(Object.entries(this.byKind).filter(([, count]) => count > 0)),
      outcomes: Object.fromEntries(this.outcomes),
      creditWaits: this.creditWaits,
      stalls: this.stalls,
      resumes: { ...this.resumes },
      deviceHandled: Object.fromEntries(this.deviceHandled),
      queueOverflows: Object.fromEntries(this.queueOverflows),
      // Only once there was one (as byKind lists only kinds seen): metrics without one read as before.
      ...(this.livelocks > 0 ? { livelocks: this.livelocks } : {}),
      flows: this.flows.snapshot(),
      latencyNs: this.latency.summary(),
      handlingLatencyNs: this.handlingLatency.summary(),
      creditWaitNs: this.creditWaitLatency.summary(),
    };
  }
}

export interface FaultSnapshot {
  pageRequests: number;
  stopMarkers: number;
  groups: number;
  responses: { SUCCESS: number; INVALID: number; FAILURE: number };
  unexpectedResponses: number;
  byCategory: { BIND: number; MAP: number; none: number };
  byStage: { stage1: number; stage2: number };
  byKind: Record<string, number>;
  outcomes: Record<string, number>;
  creditWaits: number;
  stalls: number;
  resumes: { RETRY: number; ABORT: number };
  deviceHandled: Record<string, number>;
  queueOverflows: Record<string, number>;
  /** Present (1) when an overflow storm stopped the system. */
  livelocks?: number;
  /** Flows ended by "mechanism:outcome". */
  flows: Record<string, number>;
  /** Fault flows end to end (recoverable mechanisms). */
  latencyNs: HistogramSummary;
  handlingLatencyNs: HistogramSummary;
  creditWaitNs: HistogramSummary;
}

export interface ScopeSnapshot {
  transactions: { completed: number; faulted: number; aborted: number };
  pages: number;
  bytes: number;
  translations: {
    atcHits: number;
    atcMisses: number;
    iotlbHits: number;
    iotlbMisses: number;
    walks: number;
    identity: number;
  };
  /** Unrecoverable faults by family-neutral kind and by the family's own reason code name. */
  faultsByKind: Record<string, number>;
  faultsByReason: Record<string, number>;
  /** Latency of whole DMA transactions, submission to completion or fault, in ns. */
  dmaLatencyNs: HistogramSummary;
  /** The recoverable fault path. */
  faults: FaultSnapshot;
}

export class ScopeMetrics {
  completed = 0;
  faulted = 0;
  aborted = 0;
  pages = 0;
  bytes = 0;
  atcHits = 0;
  atcMisses = 0;
  iotlbHits = 0;
  iotlbMisses = 0;
  walks = 0;
  identity = 0;
  readonly faultsByKind = new Map<string, number>();
  readonly faultsByReason = new Map<string, number>();
  readonly dmaLatency = new Histogram();
  readonly faults = new FaultCounters();
  /** A device's column in the series of outstanding page requests (outstanding-series.ts); -1 until used. */
  outstandingColumn = -1;

  snapshot(): ScopeSnapshot {
    return {
      transactions: { completed: this.completed, faulted: this.faulted, aborted: this.aborted },
      pages: this.pages,
      bytes: this.bytes,
      translations: {
        atcHits: this.atcHits,
        atcMisses: this.atcMisses,
        iotlbHits: this.iotlbHits,
        iotlbMisses: this.iotlbMisses,
        walks: this.walks,
        identity: this.identity,
      },
      faultsByKind: Object.fromEntries(this.faultsByKind),
      faultsByReason: Object.fromEntries(this.faultsByReason),
      dmaLatencyNs: this.dmaLatency.summary(),
      faults: this.faults.snapshot(),
    };
  }
}

export interface MetricsSnapshot {
  system: ScopeSnapshot;
  /** Cost of translating one page, in ns, over the whole system (kept once: it is recorded for every page). */
  translationLatencyNs: HistogramSummary;
  /** Each hop of the fault flows that had it, over the whole system (flow/fault-flow.ts HOPS). */
  hopLatencyNs: Partial<Record<HopName, HistogramSummary>>;
  devices: Record<string, ScopeSnapshot>;
  iommus: Record<string, ScopeSnapshot>;
}

export class Metrics {
  readonly system = new ScopeMetrics();
  readonly translationLatency = new Histogram();
  /** One histogram per hop, indexed as HOPS. */
  readonly hopLatency: readonly Histogram[] = HOPS.map(() => new Histogram());
  private readonly devices = new Map<string, ScopeMetrics>();
  private readonly iommus = new Map<string, ScopeMetrics>();
  /** The same in simulated time: series binned from time 0 (sim-series.ts). */
  readonly series: SimSeries;

  constructor(clock: { readonly nowNs: number }) {
    this.series = new SimSeries(clock);
  }

  device(id: string): ScopeMetrics {
    let scope = this.devices.get(id);
    if (!scope) this.devices.set(id, (scope = new ScopeMetrics()));
    return scope;
  }

  iommu(id: string): ScopeMetrics {
    let scope = this.iommus.get(id);
    if (!scope) this.iommus.set(id, (scope = new ScopeMetrics()));
    return scope;
  }

  snapshot(): MetricsSnapshot {
    const each = (scopes: Map<string, ScopeMetrics>) =>
      Object.fromEntries([...scopes].map(([id, scope]) => [id, scope.snapshot()]));
    return {
      system: this.system.snapshot(),
      translationLatencyNs: this.translationLatency.summary(),
      hopLatencyNs: Object.fromEntries(
        HOPS.flatMap((hop, i) =>
          this.hopLatency[i]!.count > 0 ? [[hop, this.hopLatency[i]!.summary()]] : [],
        ),
      ),
      devices: each(this.devices),
      iommus: each(this.iommus),
    };
  }
}

export function countInto(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
