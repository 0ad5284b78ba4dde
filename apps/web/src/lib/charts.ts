/** uPlot options shared by the dashboard's charts: a live rate line and histograms on bin-index axes. */
import uPlot from 'uplot';
import { formatNs } from './histogram';

export const PALETTE = ['#1f5fbf', '#c2410c', '#15803d', '#7e22ce', '#b91c1c', '#0e7490'];

export function rateChartOptions(label: string): Omit<uPlot.Options, 'width' | 'height'> {
  return {
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
    series: [
      {},
      { label, stroke: '#b3261e', fill: 'rgba(179, 38, 30, 0.12)', width: 1.5, points: { show: false } },
    ],
    axes: [{}, { label: 'per second', size: 60 }],
    legend: { live: false },
    cursor: { drag: { x: false, y: false } },
  };
}

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
          splits.map((index) => (Number.isInteger(index) ? formatNs(bins()[index] ?? 0) : '')),
        space: 60,
      },
      { label: options.yLabel, size: 60 },
    ],
    cursor: { drag: { x: false, y: false } },
  };
}
