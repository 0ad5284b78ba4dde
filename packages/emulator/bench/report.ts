/** Benchmark reporting: tinybench results as ops/s, reported through the repository's shared reporter. */
import type { Bench } from 'tinybench';

export { report } from '@iommu-lab/bench-report';

/** Operations per second of a tinybench task whose function performs `batch` operations. */
export function opsPerSecond(bench: Bench, taskName: string, batch: number): number {
  const result = bench.getTask(taskName)?.result;
  if (!result || !('latency' in result)) throw new Error(`benchmark task ${taskName} has no result`);
  return (batch * 1000) / result.latency.mean;
}
