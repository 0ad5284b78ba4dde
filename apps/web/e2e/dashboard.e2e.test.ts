/**
 * End to end: the dashboard served by a real API (e2e/dashboard.ts), driven in Debian's Chromium the way a
 * person would use it. Each step leaves a screenshot in test-output/.
 *
 * Skipped with a message when Debian's chromium is missing; under CI=true that is a failure.
 */
import { describe, expect, it } from 'vitest';
import { CHROMIUM, STEP_MS, requireDebianPackage, useDashboard } from './dashboard';

const browserPackage = requireDebianPackage('dashboard end to end', CHROMIUM);

describe.skipIf(!browserPackage.present)('the dashboard, end to end in Chromium', () => {
  const dash = useDashboard();
  const view = (name: 'lab' | 'stream' | 'inspector' | 'experiments') => dash.view(name);
  const shot = (name: string) => dash.shot(name);

  it(
    'builds a lab by hand and shows the kernel’s ordering refusal inline',
    async () => {
      await dash.page.goto(`${dash.base}#/lab`);
      await dash.page.getByLabel('Name (optional)').fill('scratch');
      await dash.page.getByTestId('create-empty-lab').click();
      await expect.poll(() => dash.page.getByTestId('current-lab').textContent()).toContain('scratch');

      // An IOMMU: VT-d under seed-5.13 (the form's defaults, chosen explicitly here).
      await dash.page.locator('#iommu-id').fill('vtd0');
      await dash.page.getByTestId('iommu-family').selectOption('vtd');
      await dash.page.getByTestId('iommu-profile').selectOption('seed-5.13');
      await dash.page.getByTestId('add-iommu').click();
      await dash.page.getByTestId('topology-iommu-vtd0').waitFor();

      // A PCIe device with PRI and PASID.
      await dash.page.getByTestId('device-id').fill('nic0');
      await dash.page.getByTestId('device-pri').fill('32');
      await dash.page.getByTestId('device-pasid-bits').fill('20');
      await dash.page.getByTestId('add-device').click();
      await dash.page.getByTestId('device-row-nic0').waitFor();

      // SVA before IOPF: the API refuses, and the refusal shows next to the toggles.
      await dash.page.getByTestId('feature-nic0-SVA').click();
      const refusal = dash.page.getByTestId('feature-error-nic0');
      await refusal.waitFor();
      const text = await refusal.textContent();
      expect(text).toContain('EINVAL');
      expect(text).toContain('iopf-before-sva');
      expect(text).toMatch(/IOPF/);
      await shot('lab-ordering-error');
      await expect
        .poll(() => dash.page.getByTestId('feature-nic0-SVA').getAttribute('aria-pressed'))
        .toBe('false');

      // In order: IOPF, then SVA.
      await dash.page.getByTestId('feature-nic0-IOPF').click();
      await expect
        .poll(() => dash.page.getByTestId('feature-nic0-IOPF').getAttribute('aria-pressed'))
        .toBe('true');
      await dash.page.getByTestId('feature-nic0-SVA').click();
      await expect
        .poll(() => dash.page.getByTestId('feature-nic0-SVA').getAttribute('aria-pressed'))
        .toBe('true');
      expect(await dash.page.getByTestId('feature-error-nic0').count()).toBe(0);

      // A process with a VMA, bound to the device.
      await dash.page.getByTestId('process-id').fill('app');
      await dash.page.getByTestId('add-process').click();
      await dash.page.getByTestId('topology-process-app').waitFor();
      await dash.page.getByTestId('attach-device').selectOption('nic0');
      await dash.page.getByTestId('bind-process').selectOption('app');
      await dash.page.getByTestId('bind').click();
      await expect.poll(() => dash.page.getByTestId('bind-result').textContent()).toContain('PASID 1');
      await expect
        .poll(() => dash.page.getByTestId('topology-device-nic0').textContent())
        .toContain('SVA bond');
      await shot('lab');
    },
    STEP_MS,
  );

  it(
    'fires DMA and sees its faults arrive live in the stream table',
    async () => {
      await view('stream');
      await expect.poll(() => dash.page.getByTestId('stream-status').textContent()).toContain('open');

      await view('lab');
      await dash.page.getByTestId('dma-device').selectOption('nic0');
      await dash.page.getByTestId('dma-pasid').fill('1');
      await dash.page.getByTestId('dma-address').fill('0x7f0000010000');
      await dash.page.getByTestId('dma-access').selectOption('write');
      await dash.page.getByTestId('fire-dma').click();
      await expect.poll(() => dash.page.getByTestId('dma-state').textContent()).toBe('completed');
      const outcome = await dash.page.getByTestId('dma-outcome').textContent();
      expect(outcome).toContain('1 recovered fault');
      expect(outcome).toContain('pri.page-request');

      // A workload for volume: hundreds of page requests stream in.
      await dash.page.getByTestId('run-workload').click();
      await dash.page.getByTestId('workload-result').waitFor();

      await view('stream');
      const table = dash.page.getByTestId('event-table');
      await table.locator('[data-kind="fault.group"]').first().waitFor();
      await table.locator('[data-kind="pri.page-request"]').first().waitFor();
      await expect
        .poll(async () =>
          Number(
            (await dash.page.getByTestId('stream-counts').textContent())!
              .split(' rows')[0]!
              .replace(/\D/g, ''),
          ),
        )
        .toBeGreaterThan(500);
      // Only the rows in view are in the DOM.
      expect(await table.getByTestId('event-row').count()).toBeLessThan(80);
      await expect
        .poll(() => dash.page.getByTestId('latency-summary').textContent())
        .toContain('round trips');

      // Pause freezes the table; resume follows again.
      await dash.page.getByTestId('pause-stream').click();
      await expect.poll(() => dash.page.getByTestId('stream-counts').textContent()).toContain('paused');
      await dash.page.getByTestId('pause-stream').click();
      expect(await dash.page.getByTestId('dropped-indicator').textContent()).toContain('0 dropped');

      // A server-side filter: only fault groups from now on.
      await dash.page.getByTestId('kinds-filter').click();
      await dash.page.getByTestId('kinds-none').click();
      await dash.page.getByTestId('kind-fault.group').check();
      await dash.page.keyboard.press('Escape');
      await dash.page.getByTestId('apply-filter').click();
      await expect.poll(() => dash.page.getByTestId('filter-summary').textContent()).toContain('1 kind');
      await dash.page.getByTestId('kinds-filter').click();
      await dash.page.getByTestId('kinds-all').click();
      await dash.page.keyboard.press('Escape');
      await dash.page.getByTestId('apply-filter').click();
      await expect.poll(() => dash.page.getByTestId('filter-summary').textContent()).toContain('everything');
      await dash.page.waitForTimeout(1200); // one chart refresh
      await shot('stream');
    },
    STEP_MS,
  );

  it(
    'keeps up with a live stream of thousands of events a second',
    async () => {
      const counts = async () => {
        const text = (await dash.page.getByTestId('stream-counts').textContent())!;
        const received = Number(/([\d,]+) received/.exec(text)![1]!.replace(/,/g, ''));
        const dropped = Number(
          (await dash.page.getByTestId('dropped-indicator').textContent())!.replace(/\D/g, ''),
        );
        const newest = Number(
          await dash.page.getByTestId('event-row').first().locator('span').first().textContent(),
        );
        return { received, dropped, newest };
      };
      await view('stream');
      const before = await counts();

      // Live mode as fast as the host goes, and a workload that does not wait: its events stream as they happen.
      await dash.page.getByTestId('clock-speed').selectOption('max');
      await dash.page.getByTestId('clock-run').click();
      await view('lab');
      await dash.page.locator('#wl-count').fill('20000');
      await dash.page.locator('#wl-concurrency').fill('16');
      await dash.page.getByLabel('wait for the end').uncheck();
      const started = Date.now();
      await dash.page.getByTestId('run-workload').click();
      await dash.page.getByTestId('workload-result').waitFor();
      await view('stream');

      // Wait until the stream has been quiet for two seconds.
      let last = -1;
      let quietSince = Date.now();
      while (Date.now() - quietSince < 2000) {
        const { received } = await counts();
        if (received !== last) [last, quietSince] = [received, Date.now()];
        await dash.page.waitForTimeout(250);
      }
      const after = await counts();
      await dash.page.getByTestId('clock-pause').click();
      const emitted = after.newest - before.newest;
      const received = after.received - before.received;
      const dropped = after.dropped - before.dropped;
      console.info(
        `[e2e] live stream: ${emitted} events in about ${((quietSince - started) / 1000).toFixed(1)} s: ${received} received, ${dropped} dropped`,
      );
      expect(emitted).toBeGreaterThan(50_000);
      // Every event is in the table or counted as dropped by the server.
      expect(received + dropped).toBe(emitted);
      // The ring keeps the newest 50,000 and the table stays virtual.
      const shown = Number(
        (await dash.page.getByTestId('stream-counts').textContent())!.split(' rows')[0]!.replace(/\D/g, ''),
      );
      expect(shown).toBe(Math.min(50_000, after.received));
      expect(await dash.page.getByTestId('event-table').getByTestId('event-row').count()).toBeLessThan(80);
    },
    STEP_MS,
  );

  it(
    'follows a workload on a running lab to its end with a progress bar',
    async () => {
      // A slow live clock (one simulated µs per wall ms): the workload takes seconds, and the answer comes at once.
      await dash.page.getByTestId('clock-speed').selectOption('0.001');
      await dash.page.getByTestId('clock-run').click();
      await view('lab');
      await dash.page.locator('#wl-count').fill('200');
      await dash.page.locator('#wl-concurrency').fill('1');
      await dash.page.getByLabel('wait for the end').uncheck();
      await dash.page.getByTestId('run-workload').click();
      const bar = dash.page.getByTestId('workload-progress');
      await bar.waitFor();
      const readings: number[] = [];
      await expect
        .poll(
          async () => {
            readings.push(Number(await bar.getAttribute('value')));
            return readings.at(-1);
          },
          { timeout: 45_000, interval: 200 },
        )
        .toBe(200);
      await expect.poll(() => dash.page.getByTestId('workload-result').textContent()).toContain('finished');
      // Seen part-way, not only at the end: the panel followed the workload.
      expect(readings.some((value) => value > 0 && value < 200)).toBe(true);
      await shot('workload-progress');
      await view('stream');
      await dash.page.getByTestId('clock-pause').click();
    },
    STEP_MS,
  );

  it(
    'answers a page request group from the browser as the outside fault handler',
    async () => {
      await view('lab');
      await dash.page.getByTestId('preset-select').selectOption('passthrough-map');
      await dash.page.getByTestId('create-preset-lab').click();
      await dash.page.getByTestId('topology-device-vf0').waitFor();

      // Hand vf0's MAP faults to this dashboard instead of the kernel's MAP handler.
      await dash.page.getByTestId('handler-device').selectOption('vf0');
      await dash.page.getByTestId('remove-handler').click();
      await expect
        .poll(() => dash.page.getByTestId('topology-device-vf0').textContent())
        .not.toContain('MAP → map');
      await dash.page.getByTestId('handler-type').selectOption('external');
      await dash.page.getByTestId('add-handler').click();
      await expect
        .poll(() => dash.page.getByTestId('topology-device-vf0').textContent())
        .toContain('MAP → external');

      // A finite speed, so that the handler's 1 s simulated timeout leaves time to answer.
      await view('stream');
      await expect.poll(() => dash.page.getByTestId('stream-status').textContent()).toContain('open');
      await dash.page.getByTestId('clock-speed').selectOption('0.001');
      await dash.page.getByTestId('clock-run').click();
      await expect.poll(() => dash.page.getByTestId('clock-state').textContent()).toContain('running');

      await view('lab');
      await dash.page.getByTestId('dma-device').selectOption('vf0');
      await dash.page.getByTestId('dma-pasid').fill('');
      await dash.page.getByTestId('dma-address').fill('0x2000');
      await dash.page.getByTestId('dma-access').selectOption('write');
      await dash.page.getByTestId('fire-dma').click();
      await dash.page.getByTestId('dma-waiting').waitFor();

      await view('stream');
      const pending = dash.page.getByTestId('pending-table').locator('tbody tr').first();
      await pending.waitFor();
      const cookie = (await pending.locator('td').first().textContent())!.trim();
      expect(await pending.textContent()).toContain('MAP');
      await dash.page
        .getByTestId('event-table')
        .locator('[data-kind="fault.awaiting-client"]')
        .first()
        .waitFor();
      await shot('handler');
      await dash.page.getByTestId(`respond-${cookie}-INVALID`).click();
      await expect
        .poll(() => dash.page.getByTestId('answers').textContent())
        .toContain(`cookie ${cookie}: INVALID`);
      await dash.page.getByTestId('no-pending').waitFor();
      await dash.page.getByTestId('clock-pause').click();

      // The transaction ends with the answer given: the page request was invalid.
      await view('lab');
      await expect.poll(() => dash.page.getByTestId('dma-state').textContent()).toBe('faulted');
      expect(await dash.page.getByTestId('dma-outcome').textContent()).toContain('page-request-invalid');
    },
    STEP_MS,
  );

  it(
    'walks a page table and shows the caches in the inspector',
    async () => {
      await dash.page.getByTestId('lab-select').selectOption('lab1');
      await view('inspector');
      await dash.page.getByTestId('walk-iova').fill('0x7f0000010000');
      await dash.page.getByTestId('walk').click();
      const levels = dash.page.getByTestId('walk-stage1').locator('li');
      await levels.first().waitFor();
      expect(await levels.count()).toBeGreaterThanOrEqual(4);
      await dash.page.getByTestId('iotlb-vtd0').waitFor();
      await dash.page.getByTestId('atc-nic0').waitFor();
      expect(await dash.page.getByTestId('iotlb-vtd0').textContent()).toMatch(/\d+(\.\d)?%/);
      // The page request queue's occupancy, drawn on simulated time (the series chart of the other views).
      const prq = dash.page.getByTestId('queue-vtd0-pageRequest-chart');
      await prq.locator('canvas').first().waitFor();
      expect(Number(await prq.getAttribute('data-x-max'))).toBeGreaterThan(0);
      await shot('inspector');
    },
    STEP_MS,
  );

  it(
    'saves the lab as an experiment, runs it with two seeds, and compares the runs',
    async () => {
      await view('experiments');
      await dash.page.getByTestId('save-name').fill('scratch-sva');
      expect(await dash.page.getByTestId('save-workload').inputValue()).toContain('"device": "nic0"');
      await dash.page.getByTestId('save-lab').click();
      await dash.page.getByTestId('experiment-detail').waitFor();

      for (const seed of [1, 2]) {
        await dash.page.getByTestId('run-seed').fill(String(seed));
        await dash.page.getByTestId('run-label').fill(`seed-${seed}`);
        await dash.page.getByTestId('start-run').click();
        await dash.page.getByTestId(`run-seed-${seed}`).waitFor();
      }
      for (const seed of [1, 2]) {
        await expect
          .poll(() => dash.page.getByTestId(`run-seed-${seed}`).getByTestId('run-status').textContent(), {
            timeout: 30_000,
          })
          .toBe('done');
      }

      await dash.page.getByTestId('open-seed-1').click();
      await dash.page.getByTestId('run-result').waitFor();

      await dash.page.getByTestId('pick-seed-1').check();
      await dash.page.getByTestId('pick-seed-2').check();
      await dash.page.getByTestId('compare').click();
      const table = dash.page.getByTestId('headline-figures');
      await table.waitFor();
      expect(await table.locator('thead').textContent()).toContain('seed-1 (base)');
      expect(await table.locator('tbody tr').count()).toBeGreaterThan(0);
      expect(await dash.page.getByTestId('config-diff').textContent()).toContain('/seed');
      await dash.page.getByTestId('overlay-dmaLatencyNs').waitFor();
      await shot('experiments');

      // Export, then import the file back: a second experiment of the same name.
      const href = await dash.page.getByTestId('export-link').getAttribute('href');
      const exported = await dash.page.request.get(new URL(href!, dash.base).toString());
      expect(exported.ok()).toBe(true);
      const file = await exported.body();
      expect(JSON.parse(file.toString()).format).toBe('iommu-lab/experiment');
      await dash.page.getByTestId('import-file').setInputFiles({
        name: 'scratch-sva.iommu-lab.json',
        mimeType: 'application/json',
        buffer: file,
      });
      await expect.poll(() => dash.page.getByTestId('experiment-scratch-sva').count()).toBe(2);
    },
    STEP_MS * 2,
  );

  it('raised no errors in the page', () => {
    expect(dash.pageErrors).toEqual([]);
  });
});
