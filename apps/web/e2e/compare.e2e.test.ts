/**
 * End to end (issue 12, "Comparisons people can read" and "deleting an experiment with runs asks first"):
 * an experiment saved, run twice from the page with two seeds, compared; the first screen is the headline
 * figures with the API's names, units and values, no series index appears as a metric, the per-hop chart
 * is there; deleting the experiment asks first, and only yes deletes it with its runs.
 */
import { describe, expect, it } from 'vitest';
import { type WorkloadSpec, headlineFigures } from '@iommu-lab/client';
import { formatFigure } from '../src/lib/compare/figures';
import { OUTPUT } from './build-once';
import { CHROMIUM, STEP_MS, requireDebianPackage, useDashboard } from './dashboard';

const browserPackage = requireDebianPackage('the comparison, end to end', CHROMIUM);

describe.skipIf(!browserPackage.present)('comparing runs and deleting an experiment, in Chromium', () => {
  const dash = useDashboard();
  let experiment: string;

  it(
    'compares two runs: headline figures first, equal to the API, no series index anywhere, the per-hop chart',
    async () => {
      const preset = (await dash.client.presets()).find((p) => p.id === 'sva-pri-vtd')!;
      const workload = structuredClone(preset.workload) as WorkloadSpec;
      for (const stream of workload.streams) stream.count = 400;
      experiment = (
        await dash.client.experiments.create({
          name: 'one-device',
          config: { version: 1, system: preset.config, workload, seed: 1 } as never,
        })
      ).id;
      await dash.page.goto(`${dash.base}#/experiments`);
      await dash.page.getByTestId('view-experiments').waitFor();
      await dash.page.getByTestId('experiment-one-device').click();
      for (const seed of [1, 2]) {
        await dash.page.getByTestId('run-seed').fill(String(seed));
        await dash.page.getByTestId('run-label').fill(`seed-${seed}`);
        await dash.page.getByTestId('start-run').click();
        await dash.page.getByTestId(`run-seed-${seed}`).waitFor();
      }
      for (const seed of [1, 2])
        await expect
          .poll(() => dash.page.getByTestId(`run-seed-${seed}`).getByTestId('run-status').textContent(), {
            timeout: 30_000,
          })
          .toBe('done');
      await dash.page.getByTestId('pick-seed-1').check();
      await dash.page.getByTestId('pick-seed-2').check();
      await dash.page.getByTestId('compare').click();
      const headline = dash.page.getByTestId('headline-figures');
      await headline.waitFor();

      const runs = (await dash.client.runs.list(experiment)).sort((a, b) => a.seed - b.seed);
      const expected = headlineFigures(await dash.client.compare(runs.map((run) => run.id)));
      expect(expected.length).toBeGreaterThan(10);
      for (const { figure, values } of expected) {
        const row = dash.page.getByTestId(`figure-${figure.key}`);
        expect(await row.locator('th').textContent()).toBe(figure.label);
        expect(await row.getByTestId('figure-value').allTextContents()).toEqual(
          values.map((value) => formatFigure(value, figure.unit)),
        );
      }
      expect(
        await dash.page
          .getByTestId('figure-faultLatencyP99Ns')
          .getByTestId('figure-value')
          .first()
          .textContent(),
      ).toMatch(/ (ns|µs|ms)$/);
      // The first screen of the comparison: the panel scrolled to the top of the window.
      await dash.page.evaluate(() =>
        document.querySelector('[data-testid="compare-panel"]')!.scrollIntoView({ block: 'start' }),
      );
      await dash.page.screenshot({ path: `${OUTPUT}compare.png` });

      await dash.page.getByTestId('hop-chart').locator('canvas').waitFor();
      expect(await dash.page.getByTestId('hop-table').textContent()).toContain('handler');
      await dash.page.getByTestId('series-faultRate/flowsStarted').locator('canvas').waitFor();
      // Open every group of metrics: still no series index (occupancy/43/0) among them.
      for (const summary of await dash.page.locator('details summary').all()) await summary.click();
      const text = (await dash.page.getByTestId('compare-panel').textContent()) ?? '';
      expect(text).not.toMatch(/occupancy\s*›\s*\d+/);
      expect(text).not.toContain('first 300');
      expect(text).toContain('IOMMU vtd0');
      await dash.shot('compare-full');
    },
    STEP_MS * 2,
  );

  it(
    'deleting an experiment with runs asks first: dismiss keeps it, accept deletes it and its runs',
    async () => {
      const runs = await dash.client.runs.list(experiment);
      await dash.page.getByTestId('delete-experiment').click();
      const dialog = dash.page.getByTestId('delete-confirm');
      await dialog.waitFor();
      expect(await dash.page.getByTestId('delete-confirm-text').textContent()).toContain('2 runs go with it');
      await dash.shot('experiments');
      await dash.page.getByTestId('delete-cancel').click();
      await dialog.waitFor({ state: 'hidden' });
      expect((await dash.client.experiments.get(experiment)).runs).toBe(2);

      await dash.page.getByTestId('delete-experiment').click();
      await dash.page.getByTestId('delete-accept').click();
      await dash.page.getByTestId('experiment-one-device').waitFor({ state: 'detached' });
      await expect(dash.client.experiments.get(experiment)).rejects.toMatchObject({ code: 'ENOENT' });
      for (const run of runs)
        await expect(dash.client.runs.get(run.id)).rejects.toMatchObject({ code: 'ENOENT' });
    },
    STEP_MS,
  );

  it('raised no page errors', () => {
    expect(dash.pageErrors).toEqual([]);
  });
});
