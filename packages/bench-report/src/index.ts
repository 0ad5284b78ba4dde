/**
 * Benchmark reporting for every workspace. A figure is the median of at least three runs of the measured
 * work, with their min and max, beside the median of as many runs of a baseline (the same work done the
 * simplest fast way) measured in the same process, interleaved with them so machine noise hits both alike.
 * Each figure is one printed line and one JSON file in bench-results/ at the repository root, so runs can be
 * compared across commits.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What bench-results/<name>.json holds. */
export interface Figure {
  name: string;
  /** Median of the runs. */
  value: number;
  unit: string;
  /** Median of the baseline's runs. */
  baseline: number;
  /** value / baseline. */
  ratio: number;
  /** Smallest and largest of the runs (not the baseline's). */
  min: number;
  max: number;
  /** How many runs the value (and the baseline) had. */
  runs: number;
}

/** Which way is good: rates are better higher, latencies lower. Says how to read the ratio. */
export type Better = 'higher' | 'lower';

export interface Measured {
  name: string;
  unit: string;
  /** One measurement per run, in `unit`. */
  runs: number[];
  /** The baseline's measurements, one per run, taken between the value's. */
  baselineRuns: number[];
  better: Better;
  /** Printed after the figure: what was measured, counts that explain it. Not written to the file. */
  note?: string;
}

export const MIN_RUNS = 3;

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench-results');

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * The figure of a set of runs; throws on fewer than MIN_RUNS of either, unequal counts, a non-finite run or a
 * zero baseline.
 */
export function figureOf(measured: Measured): Figure {
  const { name, unit, runs, baselineRuns } = measured;
  if (runs.length < MIN_RUNS || baselineRuns.length < MIN_RUNS)
    throw new Error(
      `${name}: ${runs.length} runs and ${baselineRuns.length} baseline runs; a figure needs at least ${MIN_RUNS} of each`,
    );
  // Interleaved runs come in pairs; a missing one means a round was skipped.
  if (runs.length !== baselineRuns.length)
    throw new Error(`${name}: ${runs.length} runs but ${baselineRuns.length} baseline runs`);
  if (![...runs, ...baselineRuns].every(Number.isFinite))
    throw new Error(`${name}: a run measured ${[...runs, ...baselineRuns].find((n) => !Number.isFinite(n))}`);
  const value = median(runs);
  const baseline = median(baselineRuns);
  // A ratio to nothing says nothing: a zero baseline means the unit is too coarse for it.
  if (baseline === 0) throw new Error(`${name}: the baseline's median is 0 ${unit}`);
  return {
    name,
    value,
    unit,
    baseline,
    ratio: value / baseline,
    min: Math.min(...runs),
    max: Math.max(...runs),
    runs: runs.length,
  };
}

const format = (n: number) =>
  Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3).replace(/\.?0+$/, '');

/** The figure as one line: median (min–max, runs), baseline median, ratio and which way is better. */
export function describeFigure(figure: Figure, better: Better, note = ''): string {
  const { name, unit } = figure;
  const value = `${format(figure.value)} ${unit}`;
  const spread = `(${format(figure.min)}–${format(figure.max)}, ${figure.runs} runs)`;
  const baseline = `baseline ${format(figure.baseline)} ${unit}`;
  const ratio = `ratio ${figure.ratio.toFixed(3)} (${better} is better)`;
  return [`${name.padEnd(30)} ${value.padStart(20)} ${spread}`, baseline, ratio, note]
    .filter(Boolean)
    .join('   ');
}

/** Prints the figure of these runs and writes it to `<dir>/<name>.json`. */
export function reportRuns(measured: Measured, dir = RESULTS_DIR): Figure {
  const figure = figureOf(measured);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${figure.name}.json`), `${JSON.stringify(figure, null, 2)}\n`);
  console.log(describeFigure(figure, measured.better, measured.note));
  return figure;
}

/**
 * Runs `value` and `baseline` alternately, `rounds` times each (value first), and returns their
 * measurements in the shape `reportRuns` takes.
 */
export async function interleave(
  rounds: number,
  value: () => number | Promise<number>,
  baseline: () => number | Promise<number>,
): Promise<{ runs: number[]; baselineRuns: number[] }> {
  const runs: number[] = [];
  const baselineRuns: number[] = [];
  for (let round = 0; round < rounds; round++) {
    runs.push(await value());
    baselineRuns.push(await baseline());
  }
  return { runs, baselineRuns };
}
