/**
 * The series the timeline draws beside its bars (GET /labs/:lab/series, GET /runs/:run/series): fault flows
 * started per bin, in a strip under the axis, and each IOMMU's hardware-queue occupancy (highest per bin,
 * its page request and fault queues together) as a step line over its queue track. The series are the
 * emulator's own counts, binned in simulated time: the flows on the tracks are the same flows, counted.
 */
import type { SeriesAnswerView } from '@iommu-lab/wire';

export interface TimelineSeries {
  startNs: number;
  binNs: number;
  /** Flows started per bin. */
  flowsStarted: Float64Array;
  maxFlows: number;
  /** Flows started over the whole series. */
  totalFlows: number;
  /** By IOMMU id: entries in its hardware queues, highest per bin. */
  occupancy: Map<string, Float64Array>;
  maxOccupancy: number;
}

/** About this many bins over the whole span: fine enough for a zoomed-out view, within the API's 10 000. */
export const SERIES_BINS = 4000;

/** A bin width for a span: the API rounds it up to a multiple of what it stores. */
export function seriesBinNs(spanNs: number): number {
  return Math.max(1, Math.ceil(spanNs / SERIES_BINS));
}

export function timelineSeries(answer: SeriesAnswerView): TimelineSeries {
  const flowsStarted = Float64Array.from(answer.series.faultRate.flowsStarted);
  const occupancy = new Map<string, Float64Array>();
  for (const [key, counts] of Object.entries(answer.series.queueOccupancy)) {
    const iommu = key.slice(0, key.lastIndexOf('/'));
    const into = occupancy.get(iommu) ?? new Float64Array(counts.length);
    for (let i = 0; i < counts.length; i++) into[i] = Math.max(into[i]!, counts[i]!);
    occupancy.set(iommu, into);
  }
  let maxOccupancy = 0;
  for (const counts of occupancy.values())
    for (const count of counts) maxOccupancy = Math.max(maxOccupancy, count);
  return {
    startNs: answer.startNs,
    binNs: answer.binNs,
    flowsStarted,
    maxFlows: flowsStarted.reduce((max, count) => Math.max(max, count), 0),
    totalFlows: flowsStarted.reduce((sum, count) => sum + count, 0),
    occupancy,
    maxOccupancy,
  };
}
