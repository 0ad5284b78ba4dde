/**
 * Device rows by kernel profile (issue 12): under mainline no 2021 feature toggles, IOPF shown as implicit
 * with its reference count and the attach that switched it on; under the proposal the driver's fault
 * categories. The labs are built through the client; the page shows them as a person would find them.
 */
import { describe, expect, it } from 'vitest';
import { CHROMIUM, STEP_MS, requireDebianPackage, useDashboard } from './dashboard';
import type { WorkloadSpec } from '@iommu-lab/client';

const browserPackage = requireDebianPackage('the device rows, end to end', CHROMIUM);

describe.skipIf(!browserPackage.present)('device rows by kernel profile, end to end in Chromium', () => {
  const dash = useDashboard();

  async function labWith(name: string, profile: 'mainline' | 'proposal') {
    const { page } = dash;
    await page.goto(`${dash.base}#/lab`);
    await page.getByLabel('Name (optional)').fill(name);
    await page.getByTestId('create-empty-lab').click();
    await expect.poll(() => page.getByTestId('current-lab').textContent()).toContain(name);
    const lab = (await dash.client.labs.list()).find((each) => each.name === name)!;
    await dash.client.iommus.create(lab.id, { id: 'vtd0', family: 'vtd', profile });
    await dash.client.devices.create(lab.id, {
      id: 'nic0',
      iommu: 'vtd0',
      ats: true,
      pri: { capacity: 32 },
      pasidBits: 20,
    });
    return lab.id;
  }

  it(
    'mainline: no feature toggles; IOPF implicit, with its reference count and the attach that switched it on',
    async () => {
      const { page } = dash;
      const lab = await labWith('mainline-row', 'mainline');
      await page.getByTestId('device-row-nic0').waitFor();
      await expect.poll(() => page.getByTestId('iopf-refcount-nic0').textContent()).toBe('0 references');
      expect(await page.getByTestId('feature-nic0-IOPF').count()).toBe(0);
      expect(await page.getByTestId('feature-nic0-SVA').count()).toBe(0);
      expect(await page.getByTestId('device-controls-nic0').textContent()).not.toContain(
        'Enable IOPF before SVA',
      );

      await dash.client.processes.create(lab, { id: 'app' });
      const { pasid } = await dash.client.devices.bind(lab, 'nic0', 'app');
      await expect.poll(() => page.getByTestId('iopf-refcount-nic0').textContent()).toBe('1 reference');
      expect(await page.getByTestId('iopf-enabled-by-nic0').textContent()).toContain(`at PASID ${pasid}`);
      await page.getByTestId('device-row-nic0').scrollIntoViewIfNeeded();
      await dash.shot('devices-mainline');
    },
    STEP_MS,
  );

  it(
    "proposal: the row shows the driver's fault categories beside the feature toggles",
    async () => {
      const { page } = dash;
      await labWith('proposal-row', 'proposal');
      await page.getByTestId('fault-categories-nic0').waitFor();
      expect(await page.getByTestId('fault-category-nic0-BIND').count()).toBe(1);
      expect(await page.getByTestId('fault-category-nic0-MAP').count()).toBe(1);
      expect(await page.getByTestId('feature-nic0-IOPF').count()).toBe(1);
      await dash.shot('devices-proposal');
    },
    STEP_MS,
  );

  it(
    "the stream's rate chart is plotted on the lab's simulated-time series",
    async () => {
      const { page } = dash;
      // A lab whose workload has faulted, so the series spans simulated time that passed.
      const preset = (await dash.client.presets()).find((each) => each.id === 'sva-pri-vtd')!;
      const lab = await dash.client.labs.create({ preset: preset.id, name: 'series' });
      await dash.client.workload(lab.id, { workload: preset.workload as WorkloadSpec, wait: true });
      await page.reload();
      await page.getByTestId('lab-select').selectOption(lab.id);
      await dash.view('stream');
      const series = await dash.client.labSeries(lab.id);
      await expect
        .poll(() => page.getByTestId('rate-chart-span').getAttribute('data-span-ns'))
        .toBe(`${series.startNs}–${series.endNs}`);
      expect(series.endNs).toBeGreaterThan(series.startNs);
      expect(await page.getByTestId('rate-chart').textContent()).toContain('page requests');
      await dash.shot('series-live');
    },
    STEP_MS,
  );

  it('raised no page errors', () => {
    expect(dash.pageErrors).toEqual([]);
  });
});
