/**
 * Horizontal stacked bars of counts (components/charts/StackedBars.svelte): each row's segments laid end to
 * end on one scale shared by every row, so rows compare by length, and whole-number ticks under them.
 */

export interface BarSegment {
  /** The kind of the segment (the legend's key, e.g. "done"). */
  key: string;
  value: number;
}

/** A segment placed on the scale: x and width as fractions 0…1 of the bar's full length. */
export interface PlacedSegment extends BarSegment {
  x: number;
  width: number;
}

/** The scale every row is drawn on: from 0 to `max`, with a tick every `step` (whole numbers, at most ~5 ticks). */
export function countScale(largestTotal: number): { max: number; ticks: number[] } {
  const step = Math.max(1, Math.ceil(largestTotal / 5));
  const max = Math.max(1, Math.ceil(largestTotal / step) * step);
  return { max, ticks: Array.from({ length: max / step + 1 }, (_, i) => i * step) };
}

/** A row's non-empty segments, end to end from 0, on a scale of `max`. */
export function placeSegments(segments: readonly BarSegment[], max: number): PlacedSegment[] {
  const placed: PlacedSegment[] = [];
  let at = 0;
  for (const segment of segments) {
    if (segment.value <= 0) continue;
    placed.push({ ...segment, x: at / max, width: segment.value / max });
    at += segment.value;
  }
  return placed;
}
