/**
 * Counters and histograms, kept for the whole system, per device and per IOMMU. The DMA path updates
 * them as it goes (plain number fields: no allocation); `snapshot` turns them into plain JSON.
 */
import { Histogram, type HistogramSummary } from './histogram';

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
  /** Cost of translating one page, in ns. */
  translationLatencyNs: HistogramSummary;
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
  readonly translationLatency = new Histogram();

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
      translationLatencyNs: this.translationLatency.summary(),
    };
  }
}

export interface MetricsSnapshot {
  system: ScopeSnapshot;
  devices: Record<string, ScopeSnapshot>;
  iommus: Record<string, ScopeSnapshot>;
}

export class Metrics {
  readonly system = new ScopeMetrics();
  private readonly devices = new Map<string, ScopeMetrics>();
  private readonly iommus = new Map<string, ScopeMetrics>();

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
    return { system: this.system.snapshot(), devices: each(this.devices), iommus: each(this.iommus) };
  }
}

export function countInto(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
