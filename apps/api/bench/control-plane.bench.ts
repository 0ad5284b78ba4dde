/**
 * Control-plane latency and throughput: p99 of lab routes at 1 k requests/s (autocannon in its own process),
 * and requests/s with the load unthrottled, each beside a bare Fastify route on the same server. Each round
 * loads the bare route, then each lab route, for SECONDS each; a figure is the median of ROUNDS. autocannon
 * reports latency in whole milliseconds, so the throughput figures are the finer comparison.
 */
import { reportRuns } from '@iommu-lab/bench-report';
import { benchServer, presetLab } from './bench-server';
import { type LoadResult, runLoad } from './autocannon';

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
  for (const target of [{ url: `${base}/bare` }, ...routes])
    await runLoad({ url: target.url, rate: RATE, seconds: 2 });

  const bare: LoadResult[] = [];
  const loads = new Map<string, LoadResult[]>(routes.map((route) => [route.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    bare.push(checked('bare', await runLoad({ url: `${base}/bare`, rate: RATE, seconds: SECONDS })));
    for (const route of routes)
      loads
        .get(route.name)!
        .push(checked(route.name, await runLoad({ url: route.url, rate: RATE, seconds: SECONDS })));
  }
  const list = (results: LoadResult[], key: 'p50' | 'max') => results.map((result) => result[key]).join(', ');
  for (const route of routes) {
    const results = loads.get(route.name)!;
    reportRuns({
      name: `api-p99-${route.name}`,
      unit: 'ms',
      runs: results.map((result) => result.p99),
      baselineRuns: bare.map((result) => result.p99),
      better: 'lower',
      note: `${RATE}/s for ${SECONDS} s a run; p50 ${list(results, 'p50')} ms, max ${list(results, 'max')} ms (bare p50 ${list(bare, 'p50')} ms)`,
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
function checked(name: string, result: LoadResult): LoadResult {
  if (result.errors > 0 || result.non2xx > 0)
    throw new Error(`${name}: ${result.errors} errors, ${result.non2xx} non-2xx responses`);
  return result;
}
