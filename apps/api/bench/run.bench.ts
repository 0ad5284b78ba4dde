/**
 * Runs of DMA transactions through the server (worker thread, fault log on disk): their rate beside the
 * same workload on a bare emulator in a process of its own (no events kept, nothing written), and the peak
 * resident memory of the server's process during each run beside the idle server's just before it, to show
 * that memory stays bounded. Three rounds of server run, then bare emulator, on one server.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { reportRuns } from '@iommu-lab/bench-report';
import { PRESETS, buildSystem } from '@iommu-lab/emulator';
import { type BenchServer, benchServer } from './bench-server';

const TRANSACTIONS = 1_000_000;
const ROUNDS = 3;
const MiB = 1024 * 1024;

function experimentConfig() {
  const preset = PRESETS.find((p) => p.id === 'passthrough-map')!;
  const workload = structuredClone(preset.workload);
  workload.streams[0]!.count = TRANSACTIONS;
  return { version: 1, system: preset.config, workload, seed: 1 };
}

/** The workload on a bare emulator in this thread; called by bare-run.mjs in its own process. */
export function bareRate(): number {
  const config = experimentConfig();
  const system = buildSystem(config.system);
  const run = system.runWorkload(config.workload);
  const started = performance.now();
  while (!run.finished) system.runUntilIdle(100_000);
  return TRANSACTIONS / ((performance.now() - started) / 1000);
}

const bareRun = fileURLToPath(new URL('./bare-run.mjs', import.meta.url));

async function bareRateElsewhere(): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, [bareRun]);
  return Number(stdout);
}

/** One run through the server, to the end: its rate, its fault records and the process's peak RSS meanwhile. */
async function serverRun(
  app: BenchServer,
  experiment: string,
): Promise<{ rate: number; peakRss: number; faultRecords: number }> {
  let peakRss = process.memoryUsage().rss;
  const started = performance.now();
  const run = await app.inject({
    method: 'POST',
    url: `/api/v1/experiments/${experiment}/runs`,
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
      process.stdout.write('\n');
      const seconds = (performance.now() - started) / 1000;
      return { rate: TRANSACTIONS / seconds, peakRss, faultRecords: view.faultRecords };
    }
    if (view.status !== 'running' && view.status !== 'queued')
      throw new Error(`run ${view.status}: ${view.error}`);
  }
}

export async function runBench(): Promise<void> {
  const app = await benchServer();
  const experiment = await app.inject({
    method: 'POST',
    url: '/api/v1/experiments',
    payload: { name: 'run-bench', config: experimentConfig() },
  });
  const id = (experiment.json() as { id: string }).id;
  const rates: number[] = [];
  const bareRates: number[] = [];
  const peakRss: number[] = [];
  const idleRss: number[] = [];
  let faultRecords = 0;
  // Each round: the idle server's RSS, a run through it, then the bare emulator on the same workload.
  for (let round = 0; round < ROUNDS; round++) {
    idleRss.push(process.memoryUsage().rss / MiB);
    const run = await serverRun(app, id);
    rates.push(run.rate);
    peakRss.push(run.peakRss / MiB);
    faultRecords = run.faultRecords;
    bareRates.push(await bareRateElsewhere());
  }
  await app.close();
  reportRuns({
    name: 'api-run-transactions',
    unit: 'tx/s',
    runs: rates,
    baselineRuns: bareRates,
    better: 'higher',
    note: `${TRANSACTIONS.toLocaleString('en-US')} transactions a run, ${faultRecords.toLocaleString('en-US')} fault records written; baseline: the bare emulator, nothing kept`,
  });
  reportRuns({
    name: 'api-run-peak-rss',
    unit: 'MiB',
    runs: peakRss,
    baselineRuns: idleRss,
    better: 'lower',
    note: 'peak resident memory of the server process during each run, beside the idle server just before it',
  });
}
