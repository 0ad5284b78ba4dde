/**
 * End to end (issue 16, studies): the Studies view lists the built-in iotlb-reach study with its runs at
 * full size, runs it (30 runs of 20 000 transactions, a few seconds on the local pool), shows its progress,
 * and once it is done shows its report in a frame: two SVG charts and a data table of a row per run, with
 * links to the report as a file, the CSV and each chart as SVG and PNG.
 */
import { describe, expect, it } from 'vitest';
import { CHROMIUM, requireDebianPackage, useDashboard } from './dashboard';

const browserPackage = requireDebianPackage('studies, end to end', CHROMIUM);

describe.skipIf(!browserPackage.present)('the Studies view runs iotlb-reach, in Chromium', () => {
  const dash = useDashboard();

  it('lists iotlb-reach, runs it with a progress bar, and shows its report with two charts and 30 rows', async () => {
    await dash.page.goto(dash.base);
    await dash.view('studies');
    const row = dash.page.locator('[data-testid="study-row"][data-study="iotlb-reach"]');
    await row.waitFor();
    expect(await row.getByTestId('study-size').textContent()).toMatch(/^30 runs at full size /);

    await row.getByTestId('run-study').click();
    // The run as the POST answered it: running, at the start.
    await row.getByTestId('study-progress').waitFor();
    expect(await row.getByTestId('run-study').isDisabled()).toBe(true);

    const frame = row.getByTestId('study-report');
    await frame.waitFor({ timeout: 120_000 });
    expect(await row.getByTestId('study-run-status').textContent()).toBe('done');
    expect(await row.getByTestId('study-progress').count()).toBe(0);
    const id = (await row.getByTestId('study-run').getAttribute('data-run'))!;
    const report = `/api/v1/studies/runs/${id}/report`;
    expect(await frame.getAttribute('src')).toBe(report);
    expect(await row.getByTestId('study-download').getAttribute('href')).toBe(`${report}?download=1`);
    expect(await row.getByTestId('study-csv').getAttribute('href')).toBe(
      `/api/v1/studies/runs/${id}/data.csv`,
    );
    expect(
      await row.getByTestId('study-chart-svg').evaluateAll((as) => as.map((a) => a.getAttribute('href'))),
    ).toEqual([0, 1].map((i) => `/api/v1/studies/runs/${id}/charts/${i}.svg`));
    expect(
      await row.getByTestId('study-chart-png').evaluateAll((as) => as.map((a) => a.getAttribute('href'))),
    ).toEqual([0, 1].map((i) => `/api/v1/studies/runs/${id}/charts/${i}.png`));

    const inside = dash.page.frameLocator('[data-testid="study-report"]');
    await inside.locator('table').waitFor();
    expect(await inside.locator('figure[data-chart] > svg').count()).toBe(2);
    expect(await inside.locator('table tbody tr').count()).toBe(30);
    // Every run done: none shows a failure in its run column.
    expect(await inside.locator('table tbody tr', { hasText: '(done)' }).count()).toBe(30);
    await dash.shot('studies-report');
  }, 180_000);

  it('raised no errors in the page', () => {
    expect(dash.pageErrors).toEqual([]);
  });
});
