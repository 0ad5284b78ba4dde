/** uPlot options shared by the dashboard's charts: a live rate line and histograms on bin-index axes. */
import uPlot from 'uplot';
import { formatNs } from './histogram';
import { formatSimTime, simTimeUnit } from './series/sim-time';

function spanUnit(u: uPlot) {
  return simTimeUnit((u.scales.x?.max ?? 0) - (u.scales.x?.min ?? 0));
}

export const PALETTE = ['#1f5fbf', '#c2410c', '#15803d', '#7e22ce', '#b91c1c', '#0e7490'];

/** Rates against simulated time (x in ns, labelled in the unit the shown span calls for). */
export function rateChartOptions(labels: string[]): Omit<uPlot.Options, 'width' | 'height'> {
  return {
    scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(0.001, (max ?? 0) * 1.1)] } },
    series: [
      { label: 'simulated time', value: (u, ns) => (ns === null ? '' : formatSimTime(ns, spanUnit(u))) },
      ...labels.map((label, index) => ({
        label,
        stroke: PALETTE[index % PALETTE.length]!,
        width: 1.5,
        points: { show: false },
      })),
    ],
    axes: [
      {
        label: 'simulated time',
        values: (u, splits) => splits.map((ns) => formatSimTime(ns, spanUnit(u))),
        space: 80,
      },
      { label: 'per µs of simulated time', size: 60 },
    ],
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
