/**
 * Simulated time on a chart axis: the unit is chosen by the span shown (ns under 10 µs, µs under 10 ms,
 * ms above), and values carry thousands separators, so an axis reads "1,250 µs" rather than "1.25e6".
 */
import type { SeriesAnswerView } from '@iommu-lab/wire';

export type SimTimeUnit = 'ns' | 'µs' | 'ms';
const NS_PER: Record<SimTimeUnit, number> = { ns: 1, µs: 1e3, ms: 1e6 };

export function simTimeUnit(spanNs: number): SimTimeUnit {
  if (spanNs < 10_000) return 'ns';
  if (spanNs < 10_000_000) return 'µs';
  return 'ms';
}

export function formatSimTime(ns: number, unit: SimTimeUnit): string {
  const value = ns / NS_PER[unit];
  return `${value.toLocaleString('en-US', { maximumFractionDigits: unit === 'ns' ? 0 : 3 })} ${unit}`;
}

/**
 * A count series of an answer as points on simulated time: x is each bin's start in ns, y the count per
 * µs of simulated time (counts per bin divided by the bin's width), so answers of different widths agree.
 */
export function ratePerMicrosecond(
  answer: SeriesAnswerView,
  counts: readonly number[],
): { x: number[]; y: number[] } {
  const binUs = answer.binNs / 1000;
  return {
    x: counts.map((_, index) => answer.startNs + index * answer.binNs),
    y: counts.map((count) => count / binUs),
  };
}
