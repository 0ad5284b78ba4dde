/**
 * uPlot options shared by the dashboard's charts: the palette, and histograms on bin-index axes (lines over
 * simulated time are components/charts/SeriesChart.svelte, with lib/charts/ for its axes and zoom).
 */
import uPlot from 'uplot';
import { formatNs } from './histogram';

export const PALETTE = ['#1f5fbf', '#c2410c', '#15803d', '#7e22ce', '#b91c1c', '#0e7490'];
const DASHES = [undefined, [6, 3], [2, 2], [8, 3, 2, 3]];
/** Line i's dash (the first solid), so lines differ without colour too, and one over another shows both. */
export const lineDash = (line: number): number[] | undefined => DASHES[line % DASHES.length];

/**
 * Histograms drawn over bin indices (bins are log-spaced, so evenly spaced indices read like a log axis),
 * labelled with the bins' lower bounds. `bins()` is read at draw time, so the chart follows new bins.
 */
export function histogramChartOptions(
  bins: () => readonly number[],
  series: { label: string; color: string }[],
  options: { bars: boolean; yLabel: string },
): Omit<uPlot.Options, 'width' | 'height'> {
  const bars = uPlot.paths.bars!({ size: [0.9, 40], align: 0 });
  const steps = uPlot.paths.stepped!({ align: 1 });
  return {
    scales: {
      x: { time: false, range: (_u, min, max) => [min - 0.5, max + 0.5] },
      // An empty histogram still gets a readable axis (0 to 1) rather than three zeros.
      y: { range: (_u, _min, max) => [0, Math.max(options.yLabel === 'share' ? 0.1 : 1, (max ?? 0) * 1.1)] },
    },
    series: [
      { label: 'bin', value: (_u, index) => (index === null ? '' : formatNs(bins()[index] ?? 0)) },
      ...series.map(({ label, color }) => ({
        label,
        stroke: color,
        fill: `${color}${options.bars ? '99' : '33'}`,
        width: options.bars ? 0 : 1.5,
        paths: options.bars ? bars : steps,
        points: { show: false },
      })),
    ],
    axes: [
      {
        label: 'latency (bin lower bound)',
        values: (_u, splits) =>
          // Only bins that exist get a label (an axis wider than the bins showed "0 ns" for the rest).
          splits.map((index) => {
            const bound = Number.isInteger(index) ? bins()[index] : undefined;
            return bound === undefined ? '' : formatNs(bound);
          }),
        space: 60,
      },
      { label: options.yLabel, size: 60 },
    ],
    cursor: { drag: { x: false, y: false } },
  };
}
