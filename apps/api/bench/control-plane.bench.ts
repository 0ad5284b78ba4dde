/**
 * Control-plane latency: p99 of lab routes at 1 k requests/s (autocannon in its own process), beside a bare
 * Fastify route on the same server measured in the same run. autocannon reports whole milliseconds.
 */
import { report } from '@iommu-lab/bench-report';
import { benchServer } from './bench-server';
import { type LoadResult, runLoad } from './autocannon';

const RATE = 1000;
const SECONDS = 5;

export async function controlPlaneBench(): Promise<void> {
  const app = await benchServer();
  app.get('/bare', async () => ({ ok: true }));
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/labs',
    payload: { preset: 'passthrough-pinned' },
  });
  const lab = (created.json() as { id: string }).id;

  const routes = [
    { name: 'device', url: `${base}/api/v1/labs/${lab}/devices/vf0` },
    { name: 'translate', url: `${base}/api/v1/labs/${lab}/domains/vm/translate?iova=0x42000` },
    { name: 'lab-list', url: `${base}/api/v1/labs` },
  ];
  // Warm the JIT on every route before measuring.
  for (const target of [{ url: `${base}/bare` }, ...routes])
    await runLoad({ url: target.url, rate: RATE, seconds: 2 });

  const bare = await runLoad({ url: `${base}/bare`, rate: RATE, seconds: SECONDS });
  check('bare', bare);
  for (const route of routes) {
    const result = await runLoad({ url: route.url, rate: RATE, seconds: SECONDS });
    check(route.name, result);
    report(
      { name: `api-p99-${route.name}`, value: result.p99, unit: 'ms', baseline: bare.p99 },
      `p50 ${result.p50} ms, max ${result.max} ms, ${result.requests} requests at ${RATE}/s (bare p50 ${bare.p50} ms)`,
    );
  }
  await app.close();
}
function check(name: string, result: LoadResult): void {
  if (result.errors > 0 || result.non2xx > 0)
    throw new Error(`${name}: ${result.errors} errors, ${result.non2xx} non-2xx responses`);
}
