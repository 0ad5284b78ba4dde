/**
 * Room for a chart's axes, in CSS px. uPlot gives an axis a fixed size unless told otherwise, so a long
 * tick label or a rotated axis label longer than the plot is cut off; these give each what it needs.
 */

/** uPlot's defaults: tick marks 10 px long, 5 px between them and the labels. */
const TICK_PX = 10;
const GAP_PX = 5;
/** What uPlot keeps above and below the plot (half a line of the top and bottom tick labels). */
const PLOT_PADDING_PX = 16;

/** The y axis's width without its label: the widest tick label, the ticks and the gap. */
export function yAxisWidth(widestTickLabelPx: number): number {
  return Math.ceil(widestTickLabelPx + TICK_PX + GAP_PX + 2);
}

/** The chart height at which the y axis's rotated label fits along the plot (never below the one asked). */
export function heightForYLabel(labelPx: number, xAxisPx: number, requestedPx: number): number {
  return Math.max(requestedPx, Math.ceil(labelPx + xAxisPx + PLOT_PADDING_PX));
}
