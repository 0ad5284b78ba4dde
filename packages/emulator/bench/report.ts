/** Benchmark rounds: tinybench tasks measured round after round, so a value and its baseline alternate. */
import { Bench } from 'tinybench';

export { interleave, reportRuns } from '@iommu-lab/bench-report';

/** Rounds per figure: the median of five keeps one slow round (a GC, another process) out of it. */
export const ROUNDS = 5;
/** Time each task runs per round. */
export const ROUND_MS = 300;

/**
 * Measures `tasks` (each performing `batch` operations a call) one after another in the order given, round
 * after round, after one unreported warm-up round; returns each task's operations per second, one a round.
 */
export function roundsOf(tasks: Record<string, () => void>, batch: number): Record<string, number[]> {
  const rates: Record<string, number[]> = Object.fromEntries(Object.keys(tasks).map((name) => [name, []]));
  for (let round = -1; round < ROUNDS; round++)
    for (const [name, fn] of Object.entries(tasks)) {
      const rate = rateOf(fn, batch);
      if (round >= 0) rates[name]!.push(rate);
    }
  return rates;
}

/** Operations per second of `fn` (performing `batch` operations a call) over ROUND_MS. */
export function rateOf(fn: () => void, batch: number): number {
  const bench = new Bench({ time: ROUND_MS, iterations: 5, warmup: false, throws: true }).add('task', fn);
  bench.runSync();
  const result = bench.getTask('task')?.result;
  if (!result || !('latency' in result)) throw new Error('benchmark task has no result');
  return (batch * 1000) / result.latency.mean;
}
