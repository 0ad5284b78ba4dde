/**
 * A sweep of 16 runs on the local worker pool (one run per core) against the same 16 runs one after
 * another (a pool of one), alternating, 3 of each: runs per second, and their ratio is the speedup the
 * pool gives on this machine. Each server first runs a small sweep, so both measure warm workers.
 */
import { availableParallelism } from 'node:os';
import { interleave, reportRuns } from '@iommu-lab/bench-report';
import { type BenchServer, benchServer } from './bench-server';
import { timeSweep } from './sweep-run';

const CAPACITIES = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256];
const ROUNDS = 3;
// 200,000 transactions a run, as before: at 100,000 (a third of a second a run) the pool's measured
// speedup fell to 1.03 here. The 6 sweeps take under two minutes.
const TRANSACTIONS = 200_000;

/** A server with a pool of `parallelRuns` workers, warmed by a small sweep. */
async function warmServer(parallelRuns: number): Promise<BenchServer> {
  const app = await benchServer({ parallelRuns });
  await timeSweep(app, {
    what: `pool of ${parallelRuns}`,
    capacities: CAPACITIES.slice(0, parallelRuns),
    count: 100,
    engine: 'local',
  });
  return app;
}

export async function sweepBench(): Promise<void> {
  const cores = availableParallelism();
  const pooled = await warmServer(cores);
  const sequential = await warmServer(1);
  const runsPerSecond = async (app: BenchServer, parallelRuns: number) =>
    CAPACITIES.length /
    (await timeSweep(app, {
      what: `pool of ${parallelRuns}`,
      capacities: CAPACITIES,
      count: TRANSACTIONS,
      engine: 'local',
    }));
  const measured = await interleave(
    ROUNDS,
    () => runsPerSecond(pooled, cores),
    () => runsPerSecond(sequential, 1),
  );
  await pooled.close();
  await sequential.close();
  reportRuns({
    name: 'api-sweep-16-runs',
    unit: 'runs/s',
    ...measured,
    better: 'higher',
    note: `${CAPACITIES.length} runs of ${TRANSACTIONS.toLocaleString('en-US')} transactions on a pool of ${cores}; baseline: one after another; ratio: the pool's speedup`,
  });
}
