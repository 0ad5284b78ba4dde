/**
 * Issue 16, the IOTLB-reach study at a reduced size (seconds): run by name with fewer values through the
 * API on the local pool; its report has a row per run with units in the header, charts as SVG whose axes
 * carry units and whose points link to their runs, and the IOTLB wall's shape: a working set within the
 * IOTLB's reach hits, one beyond it misses, and 2 MiB pages reach 512 times further. Bad studies are 422
 * with the path, and nothing is saved or queued.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, call, startServer } from '../testing/harness';
import { builtinStudy, runStudy } from '../testing/studies';

const API = '/api/v1';
const MiB = 1 << 20;
const ENTRIES = '/system/iommus/0/capabilities/iotlb/entries';
const WORKING_SET = '/workload/streams/0/workingSet';

describe('the IOTLB-reach study', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startServer({ parallelRuns: 2 });
  });
  afterAll(() => server.close());

  it('runs at a reduced size, and its report shows the IOTLB wall in CSV, SVG and HTML', async () => {
    const builtin = await builtinStudy(server, 'iotlb-reach');
    for (const experiment of builtin.experiments) experiment.config.workload.streams[0].count = 2000;
    const { started, done } = await runStudy(server, {
      study: builtin,
      set: { [ENTRIES]: [16, 256, 4096], [WORKING_SET]: [1 * MiB, 128 * MiB] },
    });
    expect(started).toMatchObject({ name: 'iotlb-reach', runs: 12, engine: 'local' });
    expect(done).toMatchObject({ status: 'done', done: 12, progress: 1 });

    const csv = await (await fetch(`${server.url}${done.report.csv}`)).text();
    const [header, ...lines] = csv.trim().split('\n');
    expect(header).toBe(
      'experiment,IOTLB entries (entries),working set (MiB),IOTLB hit rate (%),DMA latency p50 (ns simulated),page walks (walks),outcome,reason,run',
    );
    expect(lines).toHaveLength(12);
    const rows = lines.map((line) => line.split(','));
    // The working set is shown in MiB (the parameter's scale); it is swept in bytes.
    const hitRate = (pages: string, entries: number, set: number) =>
      Number(rows.find((r) => r[0] === pages && Number(r[1]) === entries && Number(r[2]) * MiB === set)![3]);
    // 1 MiB (256 pages of 4 KiB) fits in 4096 entries, not in 16; 128 MiB of 4 KiB pages fits in none.
    expect(hitRate('4 KiB pages', 4096, 1 * MiB)).toBeGreaterThan(80);
    expect(hitRate('4 KiB pages', 16, 1 * MiB)).toBeLessThan(hitRate('4 KiB pages', 4096, 1 * MiB) - 30);
    expect(hitRate('4 KiB pages', 4096, 128 * MiB)).toBeLessThan(20);
    // 128 MiB is 64 pages of 2 MiB: within 256 entries' reach.
    expect(hitRate('2 MiB pages', 256, 128 * MiB)).toBeGreaterThan(90);
    for (const row of rows) expect([row[6], row[7]]).toEqual(['done', '']);

    for (const [i, url] of done.report.charts.entries()) {
      const response = await fetch(`${server.url}${url}`);
      expect(response.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
      const svg = await response.text();
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).toContain('IOTLB entries (entries)');
      // No run was stopped as a livelock: no legend for one.
      expect(svg).not.toContain('stopped by');
      expect(svg).toContain(i === 0 ? 'IOTLB hit rate (%)' : 'DMA latency p50 (ns simulated)');
      // A point per run drawn, each a link to its run: 4 KiB pages only (6), or 128 MiB only (6).
      const links = [...svg.matchAll(/href="\/api\/v1\/runs\/([a-z0-9]+)"/g)].map((match) => match[1]);
      expect(new Set(links).size).toBe(6);
      for (const run of links) expect(rows.some((r) => r[8] === run)).toBe(true);
    }

    for (const url of done.report.png) {
      const response = await fetch(`${server.url}${url}`);
      expect(response.headers.get('content-type')).toBe('image/png');
      const png = Buffer.from(await response.arrayBuffer());
      expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      // IHDR: twice the SVG's width, and more bytes than a blank picture.
      expect(png.readUInt32BE(16)).toBeGreaterThan(1000);
      expect(png.length).toBeGreaterThan(20_000);
    }

    const page = await fetch(`${server.url}${done.report.html}?download=true`);
    expect(page.headers.get('content-disposition')).toMatch(/^attachment; filename="iotlb-reach-.+\.html"$/);
    const html = await page.text();
    expect(html).toContain('<h1>IOTLB reach: hit rate and DMA cost');
    expect(html.match(/<figure data-chart="\d">\s*<svg/g)).toHaveLength(2);
    expect(html).toContain(`href="data:text/csv;charset=utf-8,${encodeURIComponent(csv)}"`);
  }, 180_000);

  it('a path not in an experiment, an empty value list, or too many runs: 422 with the path, nothing saved', async () => {
    const builtin = await builtinStudy(server, 'iotlb-reach');
    const experimentsBefore = (await call(server.url, 'GET', `${API}/experiments`)).body.length;
    const refused = async (study: unknown, set?: object) =>
      (
        await call(server.url, 'POST', `${API}/studies/runs`, {
          study,
          engine: 'local',
          ...(set ? { set } : {}),
        })
      ).body;

    const missing = structuredClone(builtin);
    missing.parameters[0].path = '/system/iommus/0/capabilities/iotlb/sets';
    expect(await refused(missing)).toMatchObject({
      code: 'EINVAL',
      reason: 'no-such-path',
      path: '/system/iommus/0/capabilities/iotlb/sets',
      message:
        'study parameter /system/iommus/0/capabilities/iotlb/sets is not in the config of experiment "4 KiB pages".',
    });
    expect(await refused('iotlb-reach', { [WORKING_SET]: [] })).toMatchObject({
      reason: 'no-values',
      path: WORKING_SET,
    });
    const many = Array.from({ length: 64 }, (_, i) => 16 << (i % 8));
    expect(
      await refused('iotlb-reach', { [ENTRIES]: many, [WORKING_SET]: [1, 2, 3].map((n) => n * MiB) }),
    ).toMatchObject({
      reason: 'too-many-runs',
      message: 'the study would make 384 runs; at most 256.',
    });
    expect(await refused('iotlb-reach', { '/seed': [1] })).toMatchObject({
      reason: 'no-such-parameter',
      path: '/seed',
    });
    expect((await call(server.url, 'POST', `${API}/studies/runs`, { study: 'nothing' })).status).toBe(404);
    expect((await call(server.url, 'GET', `${API}/experiments`)).body.length).toBe(experimentsBefore);
  });
});
