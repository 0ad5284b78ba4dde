/**
 * A sweep of 16 runs on the local worker pool (one run per core) against the same 16 runs one after
 * another (a pool of one), alternating, 3 of each: runs per second, and their ratio is the speedup the
 * pool gives on this machine. Each server first runs a small sweep, so both measure warm workers.
 */
import { availableParallelism } from 'node:os';
import { interleave, reportRuns } from '@iommu-lab/bench-report';
import { PRESETS } from '@iommu-lab/emulator';
import { type BenchServer, benchServer } from './bench-server';

const CAPACITIES = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256];
const ROUNDS = 3;
// 200,000 transactions a run, as before: at 100,000 (a third of a second a run) the pool's measured
// speedup fell to 1.03 here. The 6 sweeps take under two minutes.
const TRANSACTIONS = 200_000;

/** A server with a pool of `parallelRuns` workers, warmed by a small sweep. */
async function warmServer(parallelRuns: number): Promise<BenchServer> {
  const app = await benchServer({ parallelRuns });
  await sweep(app, parallelRuns, CAPACITIES.slice(0, parallelRuns), 100);
  return app;
}

async function sweep(
  app: BenchServer,
  parallelRuns: number,
  capacities: number[],
  count: number,
): Promise<number> {
  const preset = PRESETS.find((p) => p.id === 'sva-pri-vtd')!;
  const workload = structuredClone(preset.workload);
  workload.streams[0]!.count = count;
  const experiment = await app.inject({
    method: 'POST',
    url: '/api/v1/experiments',
    payload: { name: 'sweep', config: { version: 1, system: preset.config, workload, seed: 1 } },
  });
  const started = performance.now();
  const sweep = await app.inject({
    method: 'POST',
    url: `/api/v1/experiments/${(experiment.json() as { id: string }).id}/sweeps`,
    payload: {
      parameters: [{ path: '/system/devices/0/pri/capacity', values: capacities }],
      engine: 'local',
    },
  });
  const id = (sweep.json() as { id: string }).id;
  let shown = -1;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const view = (await app.inject({ url: `/api/v1/sweeps/${id}` })).json() as {
      status: string;
      runs: { status: string }[];
    };
    const done = view.runs.filter((run) => run.status === 'done').length;
    if (done !== shown) process.stdout.write(`\r  pool of ${parallelRuns}: ${done}/${view.runs.length} runs`);
    shown = done;
    if (view.status === 'failed') throw new Error('a sweep run failed');
    if (view.status === 'done') break;
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write('\n');
  return seconds;
}

export async function sweepBench(): Promise<void> {
  const cores = availableParallelism();
  const pooled = await warmServer(cores);
  const sequential = await warmServer(1);
  const runsPerSecond = async (app: BenchServer, parallelRuns: number) =>
    CAPACITIES.length / (await sweep(app, parallelRuns, CAPACITIES, TRANSACTIONS));
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
