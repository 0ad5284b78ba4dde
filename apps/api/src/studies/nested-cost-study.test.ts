/**
 * Issue 16, the nested-cost study at a reduced size (seconds): with stage 2 mapped up front only stage 1
 * faults, with stage 1 mapped only stage 2 does, and both on demand every first touch faults at both stages;
 * a stage-1 fault pays the guest's round trip and a stage-2 fault does not depend on it; a fault's round trip
 * does not depend on the buffer's size; a first touch with both stages on demand pays both; warm runs fault
 * less per DMA. Seven charts, a line per experiment, a link per plotted run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, startServer } from '../testing/harness';
import { runStudy } from '../testing/studies';

const MiB = 1 << 20;
const STAGE_1 = 'stage 1 only';
const STAGE_2 = 'stage 2 only';
const BOTH = 'both on demand';

describe('the nested-cost study', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startServer({ parallelRuns: 2 });
  });
  afterAll(() => server.close());

  it('separates stage-1 from stage-2 fault round trips, and shows both on demand paying both', async () => {
    const { started, done } = await runStudy(server, {
      study: 'nested-cost',
      set: {
        '/workload/streams/0/count': [500, 2000],
        '/workload/streams/0/workingSet': [4 * MiB, 16 * MiB],
        '/system/options/latency/guestRoundTripNs': [5000, 20000],
      },
    });
    expect(started).toMatchObject({ name: 'nested-cost', runs: 24 });
    expect(done).toMatchObject({ status: 'done', done: 24 });

    const csv = await (await fetch(`${server.url}${done.report.csv}`)).text();
    const [header, ...lines] = csv.trim().split('\n');
    expect(header).toBe(
      [
        'experiment',
        'operations over the buffer (DMAs)',
        'buffer (MiB)',
        "guest's fault round trip (µs)",
        'mean fault round trip (µs simulated)',
        'fault round trip p99 (µs simulated)',
        'handler hop mean (µs simulated)',
        'retranslate hop mean (µs simulated)',
        'mean DMA latency (µs simulated)',
        'DMA latency p99 (µs simulated)',
        'stage-1 page requests (requests)',
        'stage-2 page requests (requests)',
        'page requests per DMA (requests/DMA)',
        'fault time per DMA (µs simulated)',
        'outcome',
        'reason',
        'run',
      ].join(','),
    );
    const rows = lines.map((line) => line.split(','));
    // 3 experiments × 2 × 2 × 2 points, each once.
    expect(rows).toHaveLength(24);
    for (const experiment of [STAGE_1, STAGE_2, BOTH]) {
      const points = rows.filter((r) => r[0] === experiment).map((r) => r.slice(1, 4).join('/'));
      expect(new Set(points).size).toBe(8);
    }
    for (const row of rows) expect([row[14], row[15]]).toEqual(['done', '']);

    const at = (experiment: string, count: number, mib: number, guestUs: number) => {
      const row = rows.find(
        (r) =>
          r[0] === experiment && Number(r[1]) === count && Number(r[2]) === mib && Number(r[3]) === guestUs,
      )!;
      const [roundTrip, , handler, , dmaMean, dmaP99, stage1, stage2, perDma, faultTime] = row
        .slice(4, 14)
        .map(Number);
      return {
        roundTrip: roundTrip!,
        handler: handler!,
        dmaMean: dmaMean!,
        dmaP99: dmaP99!,
        stage1: stage1!,
        stage2: stage2!,
        perDma: perDma!,
        faultTime: faultTime!,
      };
    };

    for (const count of [500, 2000])
      for (const mib of [4, 16])
        for (const guest of [5, 20]) {
          const one = at(STAGE_1, count, mib, guest);
          const two = at(STAGE_2, count, mib, guest);
          const both = at(BOTH, count, mib, guest);
          // Which stage faults is which stage was left unmapped.
          expect(one.stage1).toBeGreaterThan(0);
          expect(one.stage2).toBe(0);
          expect(two.stage1).toBe(0);
          expect(two.stage2).toBeGreaterThan(0);
          // Both on demand: each first touch faults at stage 1, then on the retry at stage 2.
          expect(Math.abs(both.stage1 - one.stage1)).toBeLessThanOrEqual(one.stage1 * 0.05);
          expect(Math.abs(both.stage2 - two.stage2)).toBeLessThanOrEqual(two.stage2 * 0.05);
          // A stage-1 fault goes through the guest: dearer than a stage-2 fault the host maps.
          expect(one.roundTrip).toBeGreaterThan(two.roundTrip);
          // Per DMA, both on demand pays both faults: more fault time than either alone, at most their sum
          // (the study's figure: every fault's round trip summed, over the DMAs).
          const sum = (p: typeof one) => (p.roundTrip * (p.stage1 + p.stage2)) / count;
          for (const p of [one, two, both])
            expect(Math.abs(p.faultTime - sum(p))).toBeLessThan(sum(p) * 0.01);
          expect(both.faultTime).toBeGreaterThan(one.faultTime);
          expect(both.faultTime).toBeGreaterThan(two.faultTime);
          expect(both.faultTime).toBeLessThan((one.faultTime + two.faultTime) * 1.02);
        }

    for (const count of [500, 2000])
      for (const mib of [4, 16]) {
        // The guest's round trip is in every stage-1 fault's handler hop, and in no stage-2 fault.
        const slower = (experiment: string) =>
          at(experiment, count, mib, 20).roundTrip - at(experiment, count, mib, 5).roundTrip;
        expect(slower(STAGE_1)).toBeGreaterThan(15 * 0.95);
        expect(slower(STAGE_1)).toBeLessThan(15 * 1.05);
        expect(
          Math.abs(at(STAGE_1, count, mib, 20).handler - at(STAGE_1, count, mib, 5).handler - 15),
        ).toBeLessThan(0.5);
        expect(at(STAGE_2, count, mib, 20)).toEqual(at(STAGE_2, count, mib, 5));
        // Half the faults with both on demand are stage 1: about half the slope.
        expect(slower(BOTH)).toBeGreaterThan(slower(STAGE_1) * 0.4);
        expect(slower(BOTH)).toBeLessThan(slower(STAGE_1) * 0.6);
      }

    for (const experiment of [STAGE_1, STAGE_2, BOTH])
      for (const guest of [5, 20]) {
        // A fault's round trip is its path's: the buffer's size does not change it.
        for (const count of [500, 2000]) {
          const small = at(experiment, count, 4, guest).roundTrip;
          expect(Math.abs(at(experiment, count, 16, guest).roundTrip - small)).toBeLessThan(small * 0.05);
        }
        // Warm runs fault less per DMA, and their DMAs are cheaper.
        for (const mib of [4, 16]) {
          expect(at(experiment, 2000, mib, guest).perDma).toBeLessThan(
            at(experiment, 500, mib, guest).perDma * 0.75,
          );
          expect(at(experiment, 2000, mib, guest).dmaMean).toBeLessThan(
            at(experiment, 500, mib, guest).dmaMean,
          );
        }
        // A first-touch DMA (the p99 of 500 operations over 16 MiB) pays both faults when both are on demand.
        const cold = (e: string) => at(e, 500, 16, guest).dmaP99;
        expect(cold(BOTH)).toBeGreaterThan(cold(STAGE_1));
        expect(cold(BOTH)).toBeGreaterThan(cold(STAGE_2));
      }

    expect(done.report.charts).toHaveLength(8);
    const axes = [
      ['buffer (MiB)', 'mean fault round trip (µs simulated)'],
      ['fault round trip (µs)', 'fault time per DMA (µs simulated)'],
      ['fault round trip (µs)', 'mean fault round trip (µs simulated)'],
      ['fault round trip (µs)', 'DMA latency p99 (µs simulated)'],
      ['operations over the buffer (DMAs)', 'mean DMA latency (µs simulated)'],
      ['operations over the buffer (DMAs)', 'page requests per DMA (requests/DMA)'],
      ['buffer (MiB)', 'stage-1 page requests (requests)'],
      ['buffer (MiB)', 'stage-2 page requests (requests)'],
    ];
    for (const [i, url] of done.report.charts.entries()) {
      const response = await fetch(`${server.url}${url}`);
      expect(response.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
      const svg = await response.text();
      expect(svg.startsWith('<svg')).toBe(true);
      for (const title of axes[i]!) expect(svg).toContain(title);
      for (const label of [STAGE_1, STAGE_2, BOTH]) expect(svg).toContain(label);
      // Every chart holds two parameters: 3 experiments × 2 values of its x, a point (a link) per run.
      const links = [...svg.matchAll(/href="\/api\/v1\/runs\/([a-z0-9]+)"/g)].map((match) => match[1]);
      expect(new Set(links).size).toBe(6);
      for (const run of links) expect(rows.some((r) => r[16] === run)).toBe(true);
    }

    const html = await (await fetch(`${server.url}${done.report.html}`)).text();
    expect(html).toContain('<h1>Nested cost: stage-1 (to the guest)');
    expect(html.match(/<figure data-chart="\d">\s*<svg/g)).toHaveLength(8);
  }, 180_000);
});
