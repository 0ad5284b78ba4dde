/**
 * The x range a series chart shows, in simulated ns: the whole data (null) or a range zoomed into it, by a
 * dragged span or the wheel about the pointer, and panned. The zoom and pan steps are the timeline's
 * (lib/timeline/view-window.ts, never narrower than 10 ns); what this adds is keeping the range inside the
 * data, so a chart never drifts off into time that has no points.
 */
import { MIN_SPAN_NS, type ViewWindow, pan, zoom } from '../timeline/view-window';

export type XRange = ViewWindow;

/** The data's first and last x, or null with no point. */
export function dataExtent(x: readonly number[]): XRange | null {
  if (x.length === 0) return null;
  return { startNs: x[0]!, endNs: x[x.length - 1]! };
}

/** The range moved inside the extent (and cut to it when wider); null when it shows the whole extent. */
export function within(range: XRange, extent: XRange): XRange | null {
  const span = Math.min(range.endNs - range.startNs, extent.endNs - extent.startNs);
  const startNs = Math.min(Math.max(range.startNs, extent.startNs), extent.endNs - span);
  const clamped = { startNs, endNs: startNs + span };
  return clamped.startNs <= extent.startNs && clamped.endNs >= extent.endNs ? null : clamped;
}

/** Zoom by factor (<1 zooms in) keeping the time under the pointer in place. */
export function zoomAbout(
  current: XRange | null,
  extent: XRange,
  factor: number,
  anchorNs: number,
): XRange | null {
  return within(zoom(current ?? extent, factor, anchorNs), extent);
}

/** Pan by deltaNs (a drag converted from pixels by the caller); the whole extent does not move. */
export function panBy(current: XRange | null, extent: XRange, deltaNs: number): XRange | null {
  return current ? within(pan(current, deltaNs), extent) : null;
}

/** A dragged span, either way round, at least the smallest span a zoom may show. */
export function selection(fromNs: number, toNs: number, extent: XRange): XRange | null {
  const startNs = Math.min(fromNs, toNs);
  return within({ startNs, endNs: Math.max(Math.max(fromNs, toNs), startNs + MIN_SPAN_NS) }, extent);
}

/** The x scale to draw: the zoomed range, else the data's (a single point gets the smallest span after it). */
export function shownRange(zoomed: XRange | null, dataMin: number, dataMax: number): [number, number] {
  if (zoomed) return [zoomed.startNs, zoomed.endNs];
  return dataMax > dataMin ? [dataMin, dataMax] : [dataMin, dataMin + MIN_SPAN_NS];
}
