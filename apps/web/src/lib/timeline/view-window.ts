/** The visible simulated-time range of the timeline, zoomed about a point and panned, never narrower than 10 ns. */
export interface ViewWindow {
  startNs: number;
  endNs: number;
}

export const MIN_SPAN_NS = 10;

/** Zoom by factor (<1 zooms in) keeping the time under anchorNs where it is on screen. */
export function zoom(view: ViewWindow, factor: number, anchorNs: number): ViewWindow {
  const span = Math.max(MIN_SPAN_NS, (view.endNs - view.startNs) * factor);
  const at = (anchorNs - view.startNs) / (view.endNs - view.startNs);
  const startNs = anchorNs - at * span;
  return { startNs, endNs: startNs + span };
}

/** Pan by deltaNs (a drag of the canvas, converted from pixels by the caller). */
export function pan(view: ViewWindow, deltaNs: number): ViewWindow {
  return { startNs: view.startNs + deltaNs, endNs: view.endNs + deltaNs };
}
