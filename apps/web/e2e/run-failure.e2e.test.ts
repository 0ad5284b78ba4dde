/**
 * End to end (issue 13, the overflow storm): a run whose workload storms its page request queue ends
 * failed, and the dashboard says why, in the run's row and at the top of its results: the livelock and
 * its figures, as the API stored them.
 */
import { describe, expect, it } from 'vitest';
import { overflowStormExperiment } from '../../api/src/testing/overflow-storm';
import { CHROMIUM, STEP_MS, requireDebianPackage, useDashboard } from './dashboard';

const browserPackage = requireDebianPackage('a failed run, end to end', CHROMIUM);

describe.skipIf(!browserPackage.present)('a run ended by a livelock, in Chromium', () => {
  const dash = useDashboard();

  it(
    'shows the run failed with the livelock’s figures, in its row and in its results',
    async () => {
      const experiment = await dash.client.experiments.create({
        name: 'storm',
        config: overflowStormExperiment() as never,
      });
      await dash.page.goto(`${dash.base}#/experiments`);
      await dash.page.getByTestId('view-experiments').waitFor();
      await dash.page.getByTestId('experiment-storm').click();
      await dash.page.getByTestId('run-label').fill('storm');
      await dash.page.getByTestId('start-run').click();
      const row = dash.page.getByTestId('run-storm');
      await expect
        .poll(() => row.getByTestId('run-status').textContent(), { timeout: 30_000 })
        .toBe('failed');

      const [run] = await dash.client.runs.list(experiment.id);
      expect(run!.error).toMatch(/^livelock: page request queue overflow storm on vtd0 \(PRQ\)/);
      expect(await row.getByTestId('run-error-text').textContent()).toBe(run!.error);
      // The emulator's rule stopped it, not the machine.
      expect(run!.stoppedBy).toBe('livelock');
      expect(await row.getByTestId('run-stopped-by').textContent()).toBe('stopped: livelock');
      await dash.page.getByTestId('open-storm').click();
      const failure = dash.page.getByTestId('run-failure');
      await failure.waitFor();
      expect(await failure.textContent()).toBe(`failed: ${run!.error}`);
      await dash.shot('run-failed-livelock');
    },
    STEP_MS,
  );

  it('raised no errors in the page', () => {
    expect(dash.pageErrors).toEqual([]);
  });
});
