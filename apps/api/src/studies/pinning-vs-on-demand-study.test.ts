/**
 * Issue 16, the pinning-against-on-demand study at a reduced size: pinned DMA never faults; on-demand
 * mapping and host SVA pay a page request per first touch, which warm runs amortise; beyond the MAP
 * handler's pin budget (16 MiB) evictions make on-demand mapping fault more than host SVA; three charts
 * with a line per experiment. A chart held at a value the study no longer sweeps is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, call, startServer } from '../testing/harness';
import { runStudy } from '../testing/studies';

const API = '/api/v1';
const MiB = 1 << 20;

describe('the pinning-against-on-demand study', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startServer({ parallelRuns: 2 });
  });
  afterAll(() => server.close());

  it('shows what avoiding pinning costs, cold and warm, within and beyond the pin budget', async () => {
    const { started, done } = await runStudy(server, {
      study: 'pinning-vs-on-demand',
      set: {
        '/workload/streams/0/count': [500, 8000, 32000],
        '/workload/streams/0/workingSet': [16 * MiB, 64 * MiB],
      },
    });
    expect(started.runs).toBe(18);
    expect(done.status).toBe('done');
    const [header, ...lines] = (await (await fetch(`${server.url}${done.report.csv}`)).text())
      .trim()
      .split('\n');
    expect(header).toBe(
      'experiment,operations over the buffer (DMAs),buffer (MiB),mean DMA latency (ns simulated),DMA latency p99 (ns simulated),page requests (requests),outcome,reason,run',
    );
    const rows = lines.map((line) => line.split(','));
    const at = (experiment: string, count: number, mib: number) => {
      const row = rows.find((r) => r[0] === experiment && Number(r[1]) === count && Number(r[2]) === mib)!;
      return { mean: Number(row[3]), pageRequests: Number(row[5]) };
    };
    for (const count of [500, 32000])
      for (const mib of [16, 64]) {
        const pinned = at('pinned up front', count, mib);
        expect(pinned.pageRequests).toBe(0);
        for (const other of ['on-demand MAP', 'host SVA']) {
          expect(at(other, count, mib).pageRequests).toBeGreaterThan(0);
          expect(at(other, count, mib).mean).toBeGreaterThan(3 * pinned.mean);
        }
      }
    // Warm runs amortise the first touches.
    expect(at('on-demand MAP', 32000, 16).mean).toBeLessThan(at('on-demand MAP', 500, 16).mean);
    // Beyond the pin budget, evictions: more page requests than host SVA, which has no budget.
    expect(at('on-demand MAP', 32000, 64).pageRequests).toBeGreaterThan(
      at('host SVA', 32000, 64).pageRequests,
    );

    expect(done.report.charts).toHaveLength(3);
    for (const url of done.report.charts) {
      const svg = await (await fetch(`${server.url}${url}`)).text();
      for (const label of ['pinned up front', 'on-demand MAP', 'host SVA']) expect(svg).toContain(label);
      // A point per run drawn, each a link to its run (the line of each experiment links to its first).
      const runs = new Set(
        [...svg.matchAll(/href="\/api\/v1\/runs\/([a-z0-9]+)"/g)].map((match) => match[1]),
      );
      expect(runs.size).toBe(url.endsWith('2.svg') ? 6 : 9);
    }
  }, 180_000);
});

describe('a chart held at a value the study does not sweep', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it('is 422 with the chart’s path (it would be empty), and nothing is queued', async () => {
    const refused = await call(server.url, 'POST', `${API}/studies/runs`, {
      study: 'pinning-vs-on-demand',
      engine: 'local',
      set: { '/workload/streams/0/count': [500] },
    });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({
      reason: 'chart-axis',
      path: '/charts/2/where',
      message:
        'chart 2 holds /workload/streams/0/count at 8000, which is not among its values: the chart would be empty.',
    });
    expect((await call(server.url, 'GET', `${API}/experiments`)).body).toEqual([]);
  });
});
