/**
 * Series charts on simulated time (issue 12): the stream's rate chart zoomed by a drag, by the wheel and
 * panned by shift+drag, its range kept across the live refetch and given back by reset; a saved run's
 * series drawn in the run detail, equal to the API's; and the two-speed check: one workload on two labs
 * whose clocks run at 1 ms/s and at max gives the same plotted shape on simulated time, bin by bin, while
 * the same flows counted against wall time differ. Every number is read from what the page plotted.
 */
import { describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import type { IommuLabClient, WorkloadSpec } from '@iommu-lab/client';
import { faultRateGroup } from '../src/lib/series/series-groups';
import { CHROMIUM, STEP_MS, requireDebianPackage, useDashboard } from './dashboard';

const browserPackage = requireDebianPackage('the series charts, end to end', CHROMIUM);

interface Plotted {
  x: number[];
  lines: { label: string; values: (number | null)[] }[];
}

/** What a series chart plotted, and the x range it shows. */
async function chartState(chart: Locator) {
  const [plotted, min, max, zoomed] = await Promise.all([
    chart.getAttribute('data-plotted'),
    chart.getAttribute('data-x-min'),
    chart.getAttribute('data-x-max'),
    chart.getAttribute('data-zoomed'),
  ]);
  return {
    plotted: JSON.parse(plotted ?? '{"x":[],"lines":[]}') as Plotted,
    min: Number(min),
    max: Number(max),
    zoomed: zoomed === 'true',
  };
}

/** Drags across the plot from one fraction of its width to another (shift held: a pan). */
async function drag(page: Page, chart: Locator, from: number, to: number, shift = false) {
  // Mouse positions are the viewport's: a screenshot since may have scrolled the chart away.
  await chart.scrollIntoViewIfNeeded();
  const box = (await chart.locator('.u-over').boundingBox())!;
  const y = box.y + box.height / 2;
  if (shift) await page.keyboard.down('Shift');
  await page.mouse.move(box.x + box.width * from, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * ((from + to) / 2), y, { steps: 4 });
  await page.mouse.move(box.x + box.width * to, y, { steps: 4 });
  await page.mouse.up();
  if (shift) await page.keyboard.up('Shift');
}

const sum = (values: readonly (number | null)[]) => values.reduce<number>((total, v) => total + (v ?? 0), 0);

describe.skipIf(!browserPackage.present)('series charts on simulated time, end to end in Chromium', () => {
  const dash = useDashboard();

  /** The PRI preset, its workload cut to `count` transactions. */
  async function svaPreset(count: number) {
    const preset = (await dash.client.presets()).find((each) => each.id === 'sva-pri-vtd')!;
    const workload = structuredClone(preset.workload) as WorkloadSpec;
    for (const stream of workload.streams) stream.count = count;
    return { preset, workload };
  }

  async function presetLab(name: string, count: number) {
    const { preset, workload } = await svaPreset(count);
    const lab = await dash.client.labs.create({ preset: preset.id, name });
    return { lab: lab.id, workload };
  }

  async function openStream(lab: string) {
    // The lab select loads the labs when the page loads: one made through the client needs a fresh page.
    await dash.page.goto(`${dash.base}#/stream`);
    await dash.page.reload();
    await dash.page.getByTestId('lab-select').selectOption(lab);
    await dash.view('stream');
  }

  it(
    "zooms the stream's rate chart by a drag, keeps the range through live updates, pans, and resets",
    async () => {
      const { page } = dash;
      const { lab, workload } = await presetLab('zoom', 400);
      await dash.client.workload(lab, { workload, wait: true });
      // Running, so the chart's data changes under the zoom once a second.
      await dash.client.labs.clock(lab, { action: 'run', speed: 1e-3 });
      await openStream(lab);
      const chart = page.getByTestId('rate-chart');
      await expect.poll(async () => (await chartState(chart)).plotted.x.length).toBeGreaterThan(10);
      expect(await page.getByTestId('rate-chart-reset').count()).toBe(0);

      // Paused for the drag: the once-a-second refetch of a running lab's series can land between reading
      // the range and dragging, and then the drag is taken on the longer range it brought.
      await dash.client.labs.clock(lab, { action: 'pause' });
      await page.waitForTimeout(1200); // one refetch after the pause: the range stays put from here
      const full = await chartState(chart);
      expect(full.zoomed).toBe(false);
      await drag(page, chart, 0.25, 0.6);
      await expect.poll(async () => (await chartState(chart)).zoomed).toBe(true);
      const zoomed = await chartState(chart);
      // The dragged span, within a few pixels of it, of the range shown before.
      const span = full.max - full.min;
      expect(Math.abs(zoomed.min - (full.min + 0.25 * span))).toBeLessThan(span * 0.02);
      expect(Math.abs(zoomed.max - (full.min + 0.6 * span))).toBeLessThan(span * 0.02);
      expect(await page.getByTestId('rate-chart-range').textContent()).toMatch(
        /Showing .* (ns|µs|ms) of simulated time/,
      );
      await dash.shot('series-zoomed');

      // A live update (the series' last bin moves on) keeps the person's range.
      await dash.client.labs.clock(lab, { action: 'run', speed: 1e-3 });
      const lastX = (state: Awaited<ReturnType<typeof chartState>>) => state.plotted.x.at(-1);
      await expect
        .poll(async () => lastX(await chartState(chart)), { timeout: 20_000 })
        .not.toBe(lastX(zoomed));
      const updated = await chartState(chart);
      expect([updated.min, updated.max, updated.zoomed]).toEqual([zoomed.min, zoomed.max, true]);

      // Shift+drag pans: the same span, earlier in time (dragged to the right).
      await drag(page, chart, 0.4, 0.6, true);
      await expect.poll(async () => (await chartState(chart)).min).toBeLessThan(zoomed.min);
      const panned = await chartState(chart);
      expect(panned.max - panned.min).toBeCloseTo(zoomed.max - zoomed.min, 3);

      // The wheel zooms in about the pointer.
      await chart.scrollIntoViewIfNeeded();
      const box = (await chart.locator('.u-over').boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.wheel(0, -200);
      await expect
        .poll(async () => {
          const state = await chartState(chart);
          return state.max - state.min;
        })
        .toBeLessThan(panned.max - panned.min);

      // Reset: the whole data again, and the button goes.
      await page.getByTestId('rate-chart-reset').click();
      await expect.poll(async () => (await chartState(chart)).zoomed).toBe(false);
      const reset = await chartState(chart);
      expect([reset.min, reset.max]).toEqual([reset.plotted.x[0], reset.plotted.x.at(-1)]);
      expect(await page.getByTestId('rate-chart-reset').count()).toBe(0);

      // A legend entry hides its line.
      await chart.locator('.u-legend .u-series', { hasText: 'page requests' }).click();
      expect(await chart.locator('.u-legend .u-series.u-off').allTextContents()).toEqual([
        expect.stringContaining('page requests'),
      ]);
      await dash.client.labs.clock(lab, { action: 'pause' });
    },
    STEP_MS,
  );

  it(
    "draws a saved run's series in the run detail, a chart per group, equal to the API's",
    async () => {
      const { page } = dash;
      const { preset, workload } = await svaPreset(400);
      const experiment = await dash.client.experiments.create({
        name: 'run-series',
        config: { version: 1, system: preset.config, workload, seed: 1 } as never,
      });
      const run = await dash.client.runs.start(experiment.id, { label: 'saved' });
      await expect
        .poll(async () => (await dash.client.runs.get(run.id)).status, { timeout: 30_000 })
        .toBe('done');

      await page.goto(`${dash.base}#/experiments`);
      await page.getByTestId('view-experiments').waitFor();
      await page.getByTestId('experiment-run-series').click();
      await page.getByTestId('open-saved').click();
      const rate = page.getByTestId('run-series-faultRate');
      await rate.locator('canvas').waitFor();

      const expected = faultRateGroup(await dash.client.runSeries(run.id));
      const { plotted } = await chartState(rate);
      expect(plotted).toEqual({ x: expected.x, lines: expected.lines });
      expect(sum(plotted.lines[1]!.values)).toBeGreaterThan(0);
      // One chart per group with something in it: the PRI preset's queue and outstanding requests too.
      await page.getByTestId('run-series-queueOccupancy').locator('canvas').waitFor();
      await page.getByTestId('run-series-outstandingRequests').locator('canvas').waitFor();
      await page.getByTestId('run-result').scrollIntoViewIfNeeded();
      await dash.shot('run-series');
    },
    STEP_MS,
  );

  /** Runs a workload on a lab's live clock at a speed; samples flows started against wall time meanwhile. */
  async function runAtSpeed(
    client: IommuLabClient,
    lab: string,
    workload: WorkloadSpec,
    speed: number | 'max',
  ) {
    const started = await client.workload(lab, { workload, wait: false });
    const wallStart = performance.now();
    await client.labs.clock(lab, { action: 'run', speed });
    const samples: { wallMs: number; flows: number }[] = [];
    for (;;) {
      const [progress, series] = await Promise.all([
        client.workloadProgress(lab, started.id),
        client.labSeries(lab),
      ]);
      samples.push({
        wallMs: performance.now() - wallStart,
        flows: sum(series.series.faultRate.flowsStarted),
      });
      if (progress.finished) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await client.labs.clock(lab, { action: 'pause' });
    return samples;
  }

  /** Flows started per 500 ms of wall time, from cumulative samples: what a wall-clock chart would draw. */
  function perWallBin(samples: { wallMs: number; flows: number }[]): number[] {
    const bins: number[] = [];
    let before = 0;
    for (let edge = 500; before < samples.at(-1)!.flows; edge += 500) {
      const upTo = samples.filter((sample) => sample.wallMs <= edge).at(-1)?.flows ?? 0;
      bins.push(upTo - before);
      before = upTo;
    }
    return bins;
  }

  it(
    'the same workload at 1 ms/s and at max plots the same shape on simulated time, bin by bin; on wall time it would not',
    async () => {
      const { page } = dash;
      // About 2.3 ms of simulated time: over two seconds of wall time at 1 ms/s, a moment at max.
      const slow = await presetLab('speed-1ms', 1_000);
      const fast = await presetLab('speed-max', 1_000);
      const slowSamples = await runAtSpeed(dash.client, slow.lab, slow.workload, 1e-3);
      const fastSamples = await runAtSpeed(dash.client, fast.lab, fast.workload, 'max');

      // The page plots each lab at the same power-of-two bin width, so their bins are the same.
      const width = '16384';
      const plottedFor = async (lab: string) => {
        await openStream(lab);
        await page.getByTestId('rate-bin-width').selectOption(width);
        const series = await dash.client.labSeries(lab, Number(width));
        expect(series.binNs).toBe(Number(width));
        await expect
          .poll(() => page.getByTestId('rate-chart-span').getAttribute('data-span-ns'))
          .toBe(`${series.startNs}–${series.endNs}`);
        await expect.poll(() => page.getByTestId('rate-bins').textContent()).toContain('bins of 16,384 ns');
        return (await chartState(page.getByTestId('rate-chart'))).plotted;
      };
      const slowPlotted = await plottedFor(slow.lab);
      const fastPlotted = await plottedFor(fast.lab);

      // The clock at 1 ms/s ran on after the last event, so that lab has more bins: zeros after the workload.
      const common = Math.min(slowPlotted.x.length, fastPlotted.x.length);
      expect(common).toBeGreaterThan(50);
      expect(slowPlotted.x.slice(0, common)).toEqual(fastPlotted.x.slice(0, common));
      for (const [index, line] of slowPlotted.lines.entries()) {
        const other = fastPlotted.lines[index]!;
        expect(line.label).toBe(other.label);
        expect(line.values.slice(0, common)).toEqual(other.values.slice(0, common));
        for (const rest of [line.values.slice(common), other.values.slice(common)])
          expect(rest.every((value) => value === 0)).toBe(true);
      }
      const flows = slowPlotted.lines[0]!.values;
      expect(flows.filter((value) => (value ?? 0) > 0).length).toBeGreaterThan(10);

      // Against wall time the same flows differ: spread over seconds at 1 ms/s, bunched at max.
      const slowWall = perWallBin(slowSamples);
      const fastWall = perWallBin(fastSamples);
      expect(sum(slowWall)).toBe(sum(fastWall));
      expect(slowWall).not.toEqual(fastWall);
      expect(slowWall.filter((count) => count > 0).length).toBeGreaterThan(1);
    },
    STEP_MS * 2,
  );

  it('raised no errors in the page', () => {
    expect(dash.pageErrors).toEqual([]);
  });
});
