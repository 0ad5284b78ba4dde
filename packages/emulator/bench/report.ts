/**
 * Benchmark reporting: one line per figure (ops/s, baseline ops/s, ratio) and a JSON file per figure in
 * bench-results/ at the repository root, so runs can be compared across commits.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench } from 'tinybench';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline: number;
  ratio: number;
}

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench-results');

/** Operations per second of a tinybench task whose function performs `batch` operations. */
export function opsPerSecond(bench: Bench, taskName: string, batch: number): number {
  const result = bench.getTask(taskName)?.result;
  if (!result || !('latency' in result)) throw new Error(`benchmark task ${taskName} has no result`);
  return (batch * 1000) / result.latency.mean;
}

export function report(figure: Omit<Figure, 'ratio'>, note = ''): Figure {
  const full: Figure = { ...figure, ratio: figure.value / figure.baseline };
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${figure.name}.json`), `${JSON.stringify(full, null, 2)}\n`);
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(
    `${figure.name.padEnd(28)} ${fmt(full.value).padStart(14)} ${figure.unit}   baseline ${fmt(full.baseline).padStart(14)} ${figure.unit}   ratio ${full.ratio.toFixed(3)}${note ? `   ${note}` : ''}`,
  );
  return full;
}
