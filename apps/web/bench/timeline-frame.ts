/**
 * `npm run bench` in apps/web: the fault timeline's frame time with 10 000 flows, in Debian's Chromium.
 *
 * The flows are real: a run of the sva-pri-vtd preset (sequential first touches of 4 KiB pages, so every
 * access faults once) through a real API on a temporary database, read back from its fault log. The page
 * (timeline-page.ts, bundled here with Vite) draws them with the timeline's own code and, as the baseline,
 * naively (a fill per hop, no culling or batching), interleaved, at 1440×560: zoomed out (every flow in
 * view) and zoomed in (a window of 1/50 of the span panned across). A figure is the median over runs of
 * each run's median frame.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { interleave, reportRuns } from '@iommu-lab/bench-report';
import { type FaultRecord, type WorkloadSpec, createClient } from '@iommu-lab/client';
import { startServer } from '../../api/src/testing/harness';
import { CHROMIUM, checkDebianPackage } from '../../api/src/testing/debian-package';
import { CHROMIUM_ARGS } from '../e2e/dashboard';
import { fromFaultRecord, runTopology } from '../src/lib/timeline/sources';
import type { PageBench } from './timeline-page';

const FLOWS = 10_000;
const ROUNDS = 5;
const FRAMES = 40;

if (!checkDebianPackage(CHROMIUM).present) {
  console.error(
    `timeline frame bench: needs Debian's chromium (${CHROMIUM.binary}); apt-get install chromium`,
  );
  process.exit(1);
}

// ——— 10 000 real flows from a run ———
const server = await startServer();
const client = createClient({ baseUrl: server.url });
const preset = (await client.presets()).find((each) => each.id === 'sva-pri-vtd')!;
const workload: WorkloadSpec = {
  streams: [
    {
      device: 'nic0',
      pasid: 1,
      pattern: 'sequential',
      base: '0x7f0000000000',
      workingSet: 64 * 1024 * 1024,
      accessSize: 4096,
      readFraction: 0.7,
      count: FLOWS,
      concurrency: 8,
    },
  ],
};
const experiment = await client.experiments.create({
  name: 'timeline-bench',
  config: { version: 1, system: preset.config, workload, seed: 1 } as never,
});
let run = await client.runs.start(experiment.id, { label: 'bench' });
while (run.status === 'queued' || run.status === 'running') {
  await new Promise((resolve) => setTimeout(resolve, 200));
  run = await client.runs.get(run.id);
}
if (run.status !== 'done') throw new Error(`the bench's run ended ${run.status}: ${run.error}`);
const rows: FaultRecord[] = [];
for (let after = -1; rows.length < FLOWS;) {
  const page = await client.runs.faults(run.id, { after, limit: 10_000 });
  rows.push(...page.records);
  if (page.records.length < 10_000) break;
  after = page.next;
}
await server.close();
if (rows.length < FLOWS) throw new Error(`the run gave ${rows.length} flows, the bench needs ${FLOWS}`);
const { iommuOf } = runTopology(run.config);
const flows = rows.slice(0, FLOWS).map((row) => fromFaultRecord(row, iommuOf));

// ——— the page ———
const out = mkdtempSync(join(tmpdir(), 'iommu-lab-timeline-bench-'));
await build({
  configFile: false,
  logLevel: 'warn',
  build: {
    outDir: out,
    emptyOutDir: true,
    lib: {
      entry: fileURLToPath(new URL('./timeline-page.ts', import.meta.url)),
      formats: ['iife'],
      name: 'bench',
      fileName: () => 'page.js',
    },
  },
});
const browser = await chromium.launch({ executablePath: CHROMIUM.binary, args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.setContent('<!doctype html><body style="margin:0"></body>');
  await page.addScriptTag({ content: readFileSync(join(out, 'page.js'), 'utf8') });
  type Bench = { timelineBench: PageBench };
  const loaded = await page.evaluate((all) => (window as unknown as Bench).timelineBench.load(all), flows);
  const span = loaded.endNs - loaded.startNs;
  const frames = (renderer: 'timeline' | 'naive', spanNs: number) =>
    page.evaluate(([r, n, s]) => (window as unknown as Bench).timelineBench.frames(r, n, s), [
      renderer,
      FRAMES,
      spanNs,
    ] as const);
  // One warm-up of each, so that neither pays for the JIT.
  await frames('timeline', span);
  await frames('naive', span);
  for (const [name, spanNs, what] of [
    ['timeline-frame-all', span, 'every flow in view'],
    ['timeline-frame-zoomed', span / 50, 'a 1/50 window panned across'],
  ] as const) {
    const measured = await interleave(
      ROUNDS,
      () => frames('timeline', spanNs),
      () => frames('naive', spanNs),
    );
    const last = await page.evaluate(() => (window as unknown as Bench).timelineBench.lastFrame());
    reportRuns({
      name,
      unit: 'ms/frame',
      ...measured,
      better: 'lower',
      note: `${loaded.flows.toLocaleString('en-US')} flows over ${(span / 1000).toFixed(0)} µs simulated, ${what}, 1440×560 px (last frame: ${last.visited} flows visited, ${last.rects} rectangles); baseline: a fill per hop (${last.naiveRects}), no culling`,
    });
  }
} finally {
  await browser.close();
  rmSync(out, { recursive: true, force: true });
}
