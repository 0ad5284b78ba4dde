/**
 * Control-plane latency and throughput: p99 of lab routes at up to 1 k requests/s, timed to the microsecond
 * by a paced client in its own process (latency-client.mjs; autocannon reports whole milliseconds), and
 * requests/s with the load unthrottled (autocannon, 8 connections), each beside a bare Fastify route on the
 * same server. Each round loads the bare route, then each lab route, for SECONDS each; a figure is the
 * median of ROUNDS.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { reportRuns } from '@iommu-lab/bench-report';
import { benchServer, presetLab } from './bench-server';
import { type LoadResult, runLoad } from './autocannon';

const latencyClient = fileURLToPath(new URL('./latency-client.mjs', import.meta.url));

interface Latencies extends LoadResult {
  /** Requests a second it achieved (one at a time, at most RATE). */
  rate: number;
}

/** `url` at up to `rate` requests a second for `seconds`, one at a time, timed in ns; latencies in ms. */
function paced(url: string, rate: number, seconds: number): Promise<Latencies> {
  return new Promise((resolve, reject) => {
    const child = fork(latencyClient, [url, String(rate), String(seconds)], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out) as Latencies)
        : reject(new Error(`latency client exited with ${code}`)),
    );
  });
}

const RATE = 1000;
// Shortened from one 5 s load of each so that 3 rounds of 4 loads take under a minute.
const SECONDS = 3;
const ROUNDS = 3;

export async function controlPlaneBench(): Promise<void> {
  const app = await benchServer();
  app.get('/bare', async () => ({ ok: true }));
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const lab = await presetLab(app);

  const routes = [
    { name: 'device', url: `${base}/api/v1/labs/${lab}/devices/vf0` },
    { name: 'translate', url: `${base}/api/v1/labs/${lab}/domains/vm/translate?iova=0x42000` },
    { name: 'lab-list', url: `${base}/api/v1/labs` },
  ];
  // Warm the JIT on every route before measuring.
  for (const target of [{ url: `${base}/bare` }, ...routes]) await paced(target.url, RATE, 2);

  const bare: Latencies[] = [];
  const loads = new Map<string, Latencies[]>(routes.map((route) => [route.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    bare.push(checked('bare', await paced(`${base}/bare`, RATE, SECONDS)));
    for (const route of routes)
      loads.get(route.name)!.push(checked(route.name, await paced(route.url, RATE, SECONDS)));
  }
  const list = (results: Latencies[], key: 'p50' | 'max' | 'rate') =>
    results.map((result) => (key === 'rate' ? Math.round(result.rate) : result[key].toFixed(3))).join(', ');
  for (const route of routes) {
    const results = loads.get(route.name)!;
    reportRuns({
      name: `api-p99-${route.name}`,
      unit: 'ms',
      runs: results.map((result) => result.p99),
      baselineRuns: bare.map((result) => result.p99),
      better: 'lower',
      note: `up to ${RATE}/s, one at a time, for ${SECONDS} s a run (${list(results, 'rate')} requests/s achieved); p50 ${list(results, 'p50')} ms, max ${list(results, 'max')} ms (bare p50 ${list(bare, 'p50')} ms)`,
    });
  }

  // Throughput: each route as fast as the server answers, 8 connections, against the bare route in the
  // same round (requests counted, so no millisecond rounding).
  const rates = new Map<string, number[]>([
    ['bare', []],
    ...routes.map((route) => [route.name, []] as [string, number[]]),
  ]);
  for (let round = 0; round < ROUNDS; round++)
    for (const target of [{ name: 'bare', url: `${base}/bare` }, ...routes]) {
      const result = checked(
        target.name,
        await runLoad({ url: target.url, seconds: SECONDS, connections: 8 }),
      );
      rates.get(target.name)!.push(result.requests / SECONDS);
    }
  for (const route of routes)
    reportRuns({
      name: `api-throughput-${route.name}`,
      unit: 'requests/s',
      runs: rates.get(route.name)!,
      baselineRuns: rates.get('bare')!,
      better: 'higher',
      note: `8 connections, as fast as answered, ${SECONDS} s a run; baseline: a bare Fastify route on the same server`,
    });
  await app.close();
}
function checked<T extends LoadResult>(name: string, result: T): T {
  if (result.errors > 0 || result.non2xx > 0)
    throw new Error(`${name}: ${result.errors} errors, ${result.non2xx} non-2xx responses`);
  return result;
}
