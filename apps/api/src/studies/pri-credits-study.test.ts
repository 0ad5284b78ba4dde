/**
 * Issue 16, the PRI-credits study at a reduced size (seconds): a quarter of its work, two capacities and
 * two queue depths for 4, 16 and 64 devices through the API on the local pool. The shape of the answer: few devices lose nothing
 * and a small allocation throttles them (they wait for credits); many devices with large allocations
 * overflow the queue, and where nearly every request is lost the emulator stops the run as a livelock,
 * which the study counts as an answer: its row keeps the counts up to the stop and its reason, and the
 * charts draw it as a cross.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, startServer } from '../testing/harness';
import { builtinStudy, runStudy, studyData } from '../testing/studies';

const CAPACITY = '/system/devices/*/pri/capacity';
const DEPTH = '/system/iommus/0/capabilities/pageRequestQueueDepth';

describe('the PRI-credits study', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startServer({ parallelRuns: 2 });
  });
  afterAll(() => server.close());

  it('shows credit waits with few devices, and the overflow storm up to a livelock with many', async () => {
    const builtin = await builtinStudy(server, 'pri-credits');
    // A quarter of the work: 2048 pages first touched over each experiment's devices.
    for (const experiment of builtin.experiments)
      for (const stream of experiment.config.workload.streams) stream.count /= 4;
    const { started, done } = await runStudy(server, {
      study: builtin,
      set: { [CAPACITY]: [8, 128], [DEPTH]: [32, 2048] },
    });
    expect(started).toMatchObject({ name: 'pri-credits', runs: 12 });
    // Livelocked runs answered the question: the study is done, not failed.
    expect(done).toMatchObject({ status: 'done', done: 12, progress: 1 });

    const { rows } = await studyData(server, done);
    expect(Object.keys(rows[0]!)).toEqual([
      'experiment',
      'PRI capacity per device (requests)',
      'page request queue depth (entries)',
      'throughput (GB/s simulated)',
      'mean DMA latency (ns simulated)',
      'DMA latency p99 (ns simulated)',
      'page requests lost per delivered fault (requests)',
      'waits for a PRI credit (waits)',
      'page requests (requests)',
      'outcome',
      'reason',
      'run',
    ]);
    expect(rows).toHaveLength(12);
    const at = (experiment: string, capacity: number, depth: number) =>
      rows.find(
        (r) =>
          r.experiment === experiment &&
          Number(r['PRI capacity per device (requests)']) === capacity &&
          Number(r['page request queue depth (entries)']) === depth,
      )!;
    const lost = (row: Record<string, string>) =>
      Number(row['page requests lost per delivered fault (requests)']);

    // 4 devices: the queue never overflows at depth 2048; 8 credits make each device wait and halve nothing
    // else: the throughput falls against 128 credits.
    const few = at('4 devices', 8, 2048);
    expect(few.outcome).toBe('done');
    expect(lost(few)).toBe(0);
    expect(Number(few['waits for a PRI credit (waits)'])).toBeGreaterThan(0);
    expect(Number(few['throughput (GB/s simulated)'])).toBeLessThan(
      Number(at('4 devices', 128, 2048)['throughput (GB/s simulated)']) * 0.75,
    );
    // 64 devices of 128 credits into a queue of 32: a livelock, with its figures and its counts to the stop.
    const storm = at('64 devices', 128, 32);
    expect(storm.outcome).toBe('livelock');
    expect(storm.reason).toMatch(/^livelock: page request queue overflow storm on vtd0 \(PRQ\)/);
    expect(lost(storm)).toBeGreaterThan(256);
    // The same 64 devices with 8 credits each finish, losing requests but far fewer per fault.
    const throttled = at('64 devices', 8, 32);
    expect(throttled.outcome).toBe('done');
    expect(lost(throttled)).toBeGreaterThan(0);
    expect(lost(throttled)).toBeLessThan(lost(storm));
    // More devices storm sooner: at capacity 128 and depth 32, 4 devices lose a few, 16 tens, 64 livelock.
    expect(lost(at('16 devices', 128, 32))).toBeGreaterThan(10 * lost(at('4 devices', 128, 32)));
    expect(lost(storm)).toBeGreaterThan(lost(at('16 devices', 128, 32)));
    // A livelock that stopped before any DMA ended has no DMA latency (not a latency of 0).
    expect(storm['mean DMA latency (ns simulated)']).toBe('');

    // The first chart (64 devices): a line of runs that finished, and the livelocked runs as crosses.
    const svg = await (await fetch(`${server.url}${done.report.charts[0]}`)).text();
    expect(svg).toContain('page request queue depth (entries)');
    expect(svg).toContain('page requests lost per delivered fault (requests)');
    expect(svg).toContain('stopped by');
    const links = new Set([...svg.matchAll(/href="\/api\/v1\/runs\/([a-z0-9]+)"/g)].map((m) => m[1]));
    const plotted = rows.filter((r) => r.experiment === '64 devices').map((r) => r.run);
    expect([...links].sort()).toEqual([...plotted].sort());

    const html = await (await fetch(`${server.url}${done.report.html}`)).text();
    expect(html.match(/<figure data-chart="\d">\s*<svg/g)).toHaveLength(4);
    expect(html).toContain('<h2>Runs that did not finish</h2>');
    expect(html).toContain(`>livelock</td><td><a href="/api/v1/runs/${storm.run}">livelock: page request`);
  }, 180_000);
});
