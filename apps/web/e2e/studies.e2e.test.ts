/**
 * End to end (issue 16, studies): the Studies view lists the built-in iotlb-reach study with its runs at
 * full size, runs it (30 runs of 20 000 transactions, a few seconds on the local pool), shows its progress,
 * and once it is done shows its report in the report frame: two SVG charts and a data table of a row per
 * run, with links to the report as a file, the CSV and each chart as SVG and PNG. Then saved studies: a
 * study file imported through the "Import…" input is listed with its revision and its file to export,
 * runs, and after a reload (the page remembers nothing) its run is among the past runs the API lists and
 * opens its report in the same frame; a file of another kind is refused with the API's code; a built-in's
 * copy is saved and deleted.
 */
import { describe, expect, it } from 'vitest';
import type { StudySpec } from '@iommu-lab/client';
import { CHROMIUM, requireDebianPackage, useDashboard } from './dashboard';

const browserPackage = requireDebianPackage('studies, end to end', CHROMIUM);

describe.skipIf(!browserPackage.present)('the Studies view runs iotlb-reach, in Chromium', () => {
  const dash = useDashboard();
  const builtinRow = (name: string) =>
    dash.page.locator(`[data-testid="study-row"][data-kind="builtin"][data-study="${name}"]`);
  const savedRow = (name: string) =>
    dash.page.locator(`[data-testid="study-row"][data-kind="saved"][data-study="${name}"]`);

  it('lists iotlb-reach, runs it with a progress bar, and shows its report with two charts and 30 rows', async () => {
    await dash.page.goto(dash.base);
    await dash.view('studies');
    const row = builtinRow('iotlb-reach');
    await row.waitFor();
    expect(await row.getByTestId('study-size').textContent()).toMatch(/^30 runs at full size /);

    await row.getByTestId('run-study').click();
    // The run as the POST answered it: running, at the start.
    const shown = dash.page.getByTestId('study-shown');
    await shown.getByTestId('study-progress').waitFor();
    expect(await row.getByTestId('run-study').isDisabled()).toBe(true);

    const frame = shown.getByTestId('study-report');
    await frame.waitFor({ timeout: 120_000 });
    expect(await shown.getByTestId('study-run-status').textContent()).toBe('done');
    expect(await shown.getByTestId('study-progress').count()).toBe(0);
    const id = (await shown.getByTestId('study-run').getAttribute('data-run'))!;
    const report = `/api/v1/studies/runs/${id}/report`;
    expect(await frame.getAttribute('src')).toBe(report);
    expect(await shown.getByTestId('study-download').getAttribute('href')).toBe(`${report}?download=1`);
    expect(await shown.getByTestId('study-csv').getAttribute('href')).toBe(
      `/api/v1/studies/runs/${id}/data.csv`,
    );
    expect(
      await shown.getByTestId('study-chart-svg').evaluateAll((as) => as.map((a) => a.getAttribute('href'))),
    ).toEqual([0, 1].map((i) => `/api/v1/studies/runs/${id}/charts/${i}.svg`));
    expect(
      await shown.getByTestId('study-chart-png').evaluateAll((as) => as.map((a) => a.getAttribute('href'))),
    ).toEqual([0, 1].map((i) => `/api/v1/studies/runs/${id}/charts/${i}.png`));

    const inside = dash.page.frameLocator('[data-testid="study-report"]');
    await inside.locator('table').waitFor();
    expect(await inside.locator('figure[data-chart] > svg').count()).toBe(2);
    expect(await inside.locator('table tbody tr').count()).toBe(30);
    // Every run done: each row's outcome cell says so.
    expect(await inside.locator('table tbody tr td:nth-last-child(2)', { hasText: /^done$/ }).count()).toBe(
      30,
    );
    await dash.shot('studies-report');
  }, 180_000);

  it('imports a study file, lists it with its revision, runs it, and after a reload opens its past run’s report', async () => {
    const spec = structuredClone(
      (await dash.client.studies.list()).find((study) => study.name === 'iotlb-reach')!,
    ) as StudySpec;
    spec.name = 'iotlb-reach-small';
    spec.title = 'IOTLB reach at a small size';
    for (const experiment of spec.experiments) experiment.config.workload.streams[0]!.count = 500;
    spec.parameters[0]!.values = [16, 4096];
    spec.parameters[1]!.values = [1 << 20, 128 << 20];
    await dash.page.getByTestId('study-import-file').setInputFiles({
      name: 'iotlb-reach-small.study.iommu-lab.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify({ format: 'iommu-lab/study-file', version: 1, study: spec })),
    });
    const row = savedRow('iotlb-reach-small');
    await row.waitFor();
    const [saved] = await dash.client.studies.saved.list();
    expect(saved).toMatchObject({ name: 'iotlb-reach-small', revision: 1 });
    expect(await row.getByTestId('study-revision').textContent()).toBe('saved · revision 1');
    expect(await row.getByTestId('study-size').textContent()).toMatch(/^8 runs at full size /);
    expect(await row.getByTestId('study-export').getAttribute('href')).toBe(
      `${dash.api.url}/api/v1/studies/saved/${saved!.id}/export`,
    );

    await row.getByTestId('run-study').click();
    const shown = dash.page.getByTestId('study-shown');
    await expect
      .poll(() => shown.getByTestId('study-run-status').textContent(), { timeout: 60_000 })
      .toBe('done');
    const id = (await shown.getByTestId('study-run').getAttribute('data-run'))!;
    expect(await shown.textContent()).toContain('iotlb-reach-small (saved, revision 1)');

    // A new page knows only what the API lists: both study runs, newest first, and no report shown.
    await dash.page.reload();
    await dash.view('studies');
    const pastRuns = dash.page.getByTestId('past-run');
    await expect.poll(() => pastRuns.count()).toBe(2);
    const past = dash.page.locator(`[data-testid="past-run"][data-run="${id}"]`);
    expect(await pastRuns.first().getAttribute('data-run')).toBe(id);
    const cells = (await past.locator('td').allTextContents()).map((text) =>
      text.replace(/\s+/g, ' ').trim(),
    );
    expect(cells.slice(0, 3)).toEqual(['iotlb-reach-small saved, revision 1', 'done', '8 / 8']);
    expect(cells[4]).toBe('Open report');
    expect(await dash.page.getByTestId('study-shown').count()).toBe(0);
    await past.getByTestId('open-run').click();
    const frame = dash.page.getByTestId('study-shown').getByTestId('study-report');
    expect(await frame.getAttribute('src')).toBe(`/api/v1/studies/runs/${id}/report`);
    const inside = dash.page.frameLocator('[data-testid="study-report"]');
    await inside.locator('table').waitFor();
    expect(await inside.locator('table tbody tr').count()).toBe(8);
    await dash.shot('studies-saved');
  }, 120_000);

  it('refuses a file of another kind with the API’s code; saves a built-in’s copy and deletes it', async () => {
    await dash.page.getByTestId('study-import-file').setInputFiles({
      name: 'experiment.iommu-lab.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify({ format: 'iommu-lab/experiment', version: 1, experiment: {} })),
    });
    const refusal = dash.page.getByTestId('study-import-error');
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(/EFORMAT\s+\(not-a-study\)\s+not an iommu-lab study file/);

    await builtinRow('pinning-vs-on-demand').getByTestId('save-study-copy').click();
    const copy = savedRow('pinning-vs-on-demand');
    await copy.waitFor();
    expect(await copy.getByTestId('study-revision').textContent()).toBe('saved · revision 1');
    await copy.getByTestId('delete-study').click();
    await expect.poll(() => copy.count()).toBe(0);
    expect((await dash.client.studies.saved.list()).map((study) => study.name)).toEqual([
      'iotlb-reach-small',
    ]);
  });

  it('raised no errors in the page', () => {
    expect(dash.pageErrors).toEqual([]);
  });
});
