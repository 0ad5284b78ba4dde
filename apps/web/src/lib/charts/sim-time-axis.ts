/**
 * The x axis of a series chart: ticks of simulated time at 1/2/5 steps, as many as the plot's width holds,
 * each labelled in the unit of the step (the timeline's axis, lib/timeline/time-axis.ts), so one axis reads
 * "0 µs, 200 µs, 400 µs" and, zoomed in, "1,000,100 ns, 1,000,200 ns".
 */
import { formatSimTime, ticks } from '../timeline/time-axis';

/** The width one tick label needs, in CSS px. */
export const TICK_SPACING_PX = 70;

export function simTimeSplits(minNs: number, maxNs: number, widthPx: number): number[] {
  return ticks(minNs, maxNs, Math.max(2, Math.floor(widthPx / TICK_SPACING_PX))).map((tick) => tick.ns);
}

/** Labels of those ticks in the unit of their step (the span's, for a single tick). */
export function simTimeLabels(splits: readonly number[], spanNs: number): string[] {
  const step = splits.length > 1 ? splits[1]! - splits[0]! : spanNs;
  return splits.map((ns) => formatSimTime(ns, step));
}
