/** One timed sweep over the PRI capacity of sva-pri-vtd (the sweep benches' work), with a progress line. */
import { PRESETS } from '@iommu-lab/emulator';
import type { BenchServer } from './bench-server';

/** Seconds from the sweep's POST until its last run is done; throws if a run fails. */
export async function timeSweep(
  app: BenchServer,
  {
    what,
    capacities,
    count,
    engine,
  }: { what: string; capacities: number[]; count: number; engine: 'local' | 'bullmq' },
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
    payload: { parameters: [{ path: '/system/devices/0/pri/capacity', values: capacities }], engine },
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
    if (done !== shown) process.stdout.write(`\r  ${what}: ${done}/${view.runs.length} runs`);
    shown = done;
    if (view.status === 'failed') throw new Error('a sweep run failed');
    if (view.status === 'done') break;
  }
  process.stdout.write('\n');
  return (performance.now() - started) / 1000;
}
