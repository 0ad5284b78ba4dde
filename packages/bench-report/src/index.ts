/**
 * Benchmark reporting for every workspace: one line per figure (value, the baseline measured in the same
 * run, their ratio) and a JSON file per figure in bench-results/ at the repository root, so runs can be
 * compared across commits.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline: number;
  /** value / baseline: above 1 is faster for rates, slower for latencies. */
  ratio: number;
}

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench-results');

const format = (n: number) =>
  Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3).replace(/\.?0+$/, '');

/** The figure as one line of text. */
export function describeFigure(figure: Figure, note = ''): string {
  return `${figure.name.padEnd(30)} ${format(figure.value).padStart(14)} ${figure.unit}   baseline ${format(figure.baseline).padStart(14)} ${figure.unit}   ratio ${figure.ratio.toFixed(3)}${note ? `   ${note}` : ''}`;
}

export function report(figure: Omit<Figure, 'ratio'>, note = '', dir = RESULTS_DIR): Figure {
  const full: Figure = { ...figure, ratio: figure.value / figure.baseline };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${figure.name}.json`), `${JSON.stringify(full, null, 2)}\n`);
  console.log(describeFigure(full, note));
  return full;
}
