/**
 * A run of 1 M DMA transactions through the server (worker thread, fault log on disk): its rate beside the
 * same workload on a bare emulator in this thread (no events kept, nothing written), and the process's peak
 * resident memory during the run beside the idle server's, to show that memory stays bounded.
 */
import { report } from '@iommu-lab/bench-report';
import { PRESETS, buildSystem } from '@iommu-lab/emulator';
import { benchServer } from './bench-server';

const TRANSACTIONS = 1_000_000;
const MiB = 1024 * 1024;

function experimentConfig() {
  const preset = PRESETS.find((p) => p.id === 'passthrough-map')!;
  const workload = structuredClone(preset.workload);
  workload.streams[0]!.count = TRANSACTIONS;
  return { version: 1, system: preset.config, workload, seed: 1 };
}

function bareRate(): number {
  const config = experimentConfig();
  const system = buildSystem(config.system);
  const run = system.runWorkload(config.workload);
  const started = performance.now();
  while (!run.finished) system.runUntilIdle(100_000);
  return TRANSACTIONS / ((performance.now() - started) / 1000);
}

export async function runBench(): Promise<void> {
  const baselineRate = bareRate();
  const app = await benchServer();
  const experiment = await app.inject({
    method: 'POST',
    url: '/api/v1/experiments',
    payload: { name: '1M', config: experimentConfig() },
  });
  globalThis.gc?.();
  const idleRss = process.memoryUsage().rss;
  let peakRss = idleRss;
  const started = performance.now();
  const run = await app.inject({
    method: 'POST',
    url: `/api/v1/experiments/${(experiment.json() as { id: string }).id}/runs`,
    payload: {},
  });
  const id = (run.json() as { id: string }).id;
  let lastPrint = 0;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const view = (await app.inject({ url: `/api/v1/runs/${id}` })).json() as {
      status: string;
      progress: number;
      faultRecords: number;
      error: string | null;
    };
    if (performance.now() - lastPrint > 2000) {
      process.stdout.write(
        `\r  run: ${(view.progress * 100).toFixed(0)} %, ${view.faultRecords} fault records`,
      );
      lastPrint = performance.now();
    }
    if (view.status === 'done') {
      const seconds = (performance.now() - started) / 1000;
      process.stdout.write('\n');
      report(
        {
          name: 'api-run-1m-transactions',
          value: TRANSACTIONS / seconds,
          unit: 'tx/s',
          baseline: baselineRate,
        },
        `${view.faultRecords.toLocaleString('en-US')} fault records written; baseline: the bare emulator, nothing kept`,
      );
      report(
        { name: 'api-run-1m-peak-rss', value: peakRss / MiB, unit: 'MiB', baseline: idleRss / MiB },
        'peak resident memory of the server process during the run, beside the idle server',
      );
      break;
    }
    if (view.status !== 'running' && view.status !== 'queued')
      throw new Error(`run ${view.status}: ${view.error}`);
  }
  await app.close();
}
