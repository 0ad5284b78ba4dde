/**
 * `npm run bench` in apps/api: websocket stream, fan-out to 200 clients, control-plane latency, the iommufd
 * fault channel, a 1 M-transaction
 * run, a sweep on the local pool and on queue worker processes. Each in a process of its own, one after another, so that none measures the memory or the
 * heap another left behind (the run's peak RSS above all). `tsx bench/run.ts <name>` runs one.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { controlPlaneBench } from './control-plane.bench';
import { fanoutBench } from './fanout.bench';
import { iommufdBench } from './iommufd.bench';
import { runBench } from './run.bench';
import { streamBench } from './stream.bench';
import { sweepBench } from './sweep.bench';
import { sweepWorkersBench } from './sweep-workers.bench';

const BENCHES: Record<string, () => Promise<void>> = {
  stream: streamBench,
  fanout: fanoutBench,
  'control-plane': controlPlaneBench,
  iommufd: iommufdBench,
  run: runBench,
  sweep: sweepBench,
  'sweep-workers': sweepWorkersBench,
};

const only = process.argv[2];
if (only !== undefined) {
  const bench = BENCHES[only];
  if (!bench) throw new Error(`no bench "${only}"; there are ${Object.keys(BENCHES).join(', ')}`);
  await bench();
} else {
  const self = fileURLToPath(import.meta.url);
  let failed = 0;
  for (const name of Object.keys(BENCHES)) {
    // The same Node with the same loader (tsx) this process was started with.
    const child = spawnSync(process.execPath, [...process.execArgv, self, name], { stdio: 'inherit' });
    if (child.status !== 0) {
      console.error(`bench ${name} failed (exit ${child.status ?? child.signal})`);
      failed++;
    }
  }
  process.exitCode = failed > 0 ? 1 : 0;
}
