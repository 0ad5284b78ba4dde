/**
 * uPlot options of a comparison: per-hop latency as grouped bars (one bar per run in each hop), histograms
 * whose runs differ by colour and by dash, and each run's colour (its series are overlaid on simulated time
 * by components/charts/SeriesChart.svelte, with the same dashes).
 */
import uPlot from 'uplot';
import { PALETTE, lineDash } from '../charts';
import { formatTime } from './figures';

type Options = Omit<uPlot.Options, 'width' | 'height'>;
/** Run i's colour; past the first run, its line also has a dash (lineDash), so runs differ without colour too. */
export const runColour = (run: number) => PALETTE[run % PALETTE.length]!;

/**
 * "Where did the time go": each hop's mean per run, bars side by side. The x axis has a slot per run per
 * hop and an empty one between hops (hopBarData), so a run's bar sits beside the other runs' bars.
 */
export function hopChartOptions(hops: readonly string[], runs: readonly string[]): Options {
  const slots = runs.length + 1;
  return {
    scales: {
      x: { time: false, range: (_u, min, max) => [min - 0.5, max + 0.5] },
      y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
    },
    series: [
      { label: 'hop', value: (_u, slot) => (slot === null ? '' : (hops[Math.floor(slot / slots)] ?? '')) },
      ...runs.map((label, run) => ({
        label,
        stroke: runColour(run),
        fill: `${runColour(run)}cc`,
        width: 0,
        paths: uPlot.paths.bars!({ size: [0.95, 80], align: 0 }),
        points: { show: false },
        value: (_u: uPlot, value: number | null) => (value === null ? '—' : formatTime(value)),
      })),
    ],
    axes: [
      {
        label: 'hop of the fault flow',
        splits: () => hops.map((_, hop) => hop * slots + (runs.length - 1) / 2),
        values: (_u, splits) =>
          splits.map((slot) => hops[Math.round((slot - (runs.length - 1) / 2) / slots)] ?? ''),
      },
      {
        label: 'mean latency (simulated)',
        values: (_u, splits) => splits.map((ns) => formatTime(ns)),
        size: 80,
      },
    ],
    cursor: { drag: { x: false, y: false } },
  };
}

/** hopChartOptions' data: run r's mean of hop h at slot h·(runs+1)+r, null in every other slot. */
export function hopBarData(meanNs: readonly (readonly (number | null)[])[], runs: number): uPlot.AlignedData {
  const slots = runs + 1;
  const x = Array.from({ length: meanNs.length * slots }, (_, slot) => slot);
  const perRun = Array.from({ length: runs }, (_, run) =>
    x.map((slot) => (slot % slots === run ? (meanNs[Math.floor(slot / slots)]?.[run] ?? null) : null)),
  );
  return [x, ...perRun];
}

/** A histogram of every run: the first as bars, the others as stepped outlines with dashes. */
export function histogramOverlayOptions(
  bins: readonly number[],
  runs: readonly string[],
  yLabel: string,
): Options {
  const bars = uPlot.paths.bars!({ size: [0.9, 40], align: 0 });
  const steps = uPlot.paths.stepped!({ align: 1 });
  return {
    scales: {
      x: { time: false, range: (_u, min, max) => [min - 0.5, max + 0.5] },
      y: {
        range: (_u, _min, max) => [0, Math.max(yLabel === 'share of the run' ? 0.1 : 1, (max ?? 0) * 1.1)],
      },
    },
    series: [
      { label: 'bin from', value: (_u, index) => (index === null ? '' : formatTime(bins[index] ?? 0)) },
      ...runs.map((label, run) => ({
        label,
        stroke: runColour(run),
        fill: run === 0 ? `${runColour(run)}55` : undefined,
        width: run === 0 ? 0 : 2,
        dash: lineDash(run),
        paths: run === 0 ? bars : steps,
        points: { show: false },
      })),
    ],
    axes: [
      {
        label: 'latency, simulated (bin lower bound)',
        values: (_u, splits) =>
          splits.map((i) => (Number.isInteger(i) && i in bins ? formatTime(bins[i]!) : '')),
        space: 70,
      },
      { label: yLabel, size: 70 },
    ],
    cursor: { drag: { x: false, y: false } },
  };
}
