/**
 * Fan-out: does a server streaming a lab at "max" speed to 200 clients still answer? `/healthz` p99 and
 * the time a new client waits for its hello, with 200 streaming readers (in their own process) beside
 * the same figures on the same server with no reader and the lab paused, measured in the same run; each
 * the median of 3 rounds, busy and idle interleaved (min and max printed).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { interleave, reportRuns } from '@iommu-lab/bench-report';
import { type BenchServer, benchServer, flood, presetLab, startWorkload } from './bench-server';

const READERS = 200;
const PROBES = 300;
const ROUNDS = 3;
/** The server's peak resident memory while streaming, for the note. */
let peakRss = 0;
const clients = fileURLToPath(new URL('./fanout-clients.mjs', import.meta.url));

interface Probe {
  healthzP99: number;
  helloMedian: number;
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const median = (values: number[]) => quantile(values, 0.5);

function output(child: ChildProcess): Promise<string> {
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exited ${code}`)))),
  );
}

async function probe(base: string, stream: string): Promise<Probe> {
  const child = fork(clients, ['probe', stream, base, String(PROBES)], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const { healthzMs, helloMs } = JSON.parse(await output(child)) as {
    healthzMs: number[];
    helloMs: number[];
  };
  return { healthzP99: quantile(healthzMs, 0.99), helloMedian: median(helloMs) };
}

async function busyProbe(app: BenchServer, base: string, lab: string, stream: string): Promise<Probe> {
  const readers = fork(clients, ['readers', stream, String(READERS)], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const done = output(readers);
  await new Promise<void>((resolve) => readers.once('message', () => resolve()));
  const clock = (body: object) =>
    app.inject({ method: 'POST', url: `/api/v1/labs/${lab}/clock`, payload: body });
  await clock({ action: 'run', speed: 'max' });
  // Let the streams fill up first.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const result = await probe(base, stream);
  clearInterval(sampler);
  await clock({ action: 'pause' });
  readers.send('stop');
  const { events } = JSON.parse(await done) as { events: number };
  if (events === 0) throw new Error('the readers received no events');
  return result;
}

export async function fanoutBench(): Promise<void> {
  const app = await benchServer();
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const lab = await presetLab(app);
  await startWorkload(app, lab, flood);
  const stream = `${base.replace('http', 'ws')}/api/v1/labs/${lab}/stream`;

  const idle: Probe[] = [];
  const busy: Probe[] = [];
  await interleave(
    ROUNDS,
    async () => (busy.push(await busyProbe(app, base, lab, stream)), 0),
    async () => (idle.push(await probe(base, stream)), 0),
  );
  await app.close();

  for (const [name, key, what] of [
    ['api-fanout-healthz-p99', 'healthzP99', `p99 of ${PROBES} GET /healthz`],
    ['api-fanout-time-to-hello', 'helloMedian', `median of ${PROBES / 10} new clients' wait for hello`],
  ] as const) {
    reportRuns({
      name,
      unit: 'ms',
      runs: busy.map((round) => round[key]),
      baselineRuns: idle.map((round) => round[key]),
      better: 'lower',
      note: `${what}: ${READERS} clients streaming a lab at "max" vs the same server idle; server peak RSS ${Math.round(peakRss / 2 ** 20)} MiB`,
    });
  }
}
