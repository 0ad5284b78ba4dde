/**
 * Fault round trips measured from the stream, in simulated ns: a page request group from its first page
 * request to its response, a stall from the stall to its resume. Only what the subscribe filter lets
 * through can be measured; a group whose requests were filtered out is timed from the group itself.
 */
import type { WireEvent } from '@iommu-lab/client';

/** How many unanswered requests, groups and stalls to remember (faults that never end must not leak). */
const OPEN_LIMIT = 100_000;

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  if (map.size >= OPEN_LIMIT) map.delete(map.keys().next().value as K);
  map.set(key, value);
}

export class FaultLatencyTracker {
  private readonly requestStart = new Map<number, number>();
  private readonly groupStart = new Map<number, number>();
  private readonly stallStart = new Map<string, number>();

  /** Feeds one event; returns the latency of a fault it ended, or null. */
  observe(event: WireEvent): number | null {
    switch (event.kind) {
      case 'pri.page-request':
        remember(this.requestStart, event.request as number, event.timeNs);
        return null;
      case 'fault.group': {
        const requests = (event.requests as number[] | undefined) ?? [];
        let start = event.timeNs;
        for (const request of requests) {
          const time = this.requestStart.get(request);
          if (time !== undefined) {
            start = Math.min(start, time);
            this.requestStart.delete(request);
          }
        }
        remember(this.groupStart, event.group as number, start);
        return null;
      }
      case 'fault.response': {
        const group = event.group as number | null;
        if (group === null) return null;
        const start = this.groupStart.get(group);
        if (start === undefined) return null;
        this.groupStart.delete(group);
        return event.timeNs - start;
      }
      case 'stall.stalled':
        remember(this.stallStart, `${String(event.iommu)}/${String(event.stag)}`, event.timeNs);
        return null;
      case 'stall.resume': {
        const key = `${String(event.iommu)}/${String(event.stag)}`;
        const start = this.stallStart.get(key);
        if (start === undefined) return null;
        this.stallStart.delete(key);
        return event.timeNs - start;
      }
      default:
        return null;
    }
  }

  clear(): void {
    this.requestStart.clear();
    this.groupStart.clear();
    this.stallStart.clear();
  }
}
