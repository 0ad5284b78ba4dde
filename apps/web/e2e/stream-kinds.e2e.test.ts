/**
 * The stream's kinds filter (search, a tri-state group per layer, one kind unticked) leaves in the table
 * exactly the lab's history of those kinds; the round-trip histogram counts the faults that happened
 * before the page opened.
 */
import { describe, expect, it } from 'vitest';
import type { EventKind, WireEvent, WorkloadSpec } from '@iommu-lab/client';
import { CHROMIUM, STEP_MS, requireDebianPackage, useDashboard } from './dashboard';

const browserPackage = requireDebianPackage('the stream kinds filter, end to end', CHROMIUM);

describe.skipIf(!browserPackage.present)("the stream's kinds filter and history, in Chromium", () => {
  const dash = useDashboard();

  /** A lab whose PRI faults all happened before the page opens, shown in the stream view. */
  async function faultedLabOpened(name: string): Promise<WireEvent[]> {
    const { page } = dash;
    const preset = (await dash.client.presets()).find((each) => each.id === 'sva-pri-vtd')!;
    const workload = structuredClone(preset.workload) as WorkloadSpec;
    for (const stream of workload.streams) stream.count = 20;
    const lab = await dash.client.labs.create({ preset: preset.id, name });
    await dash.client.workload(lab.id, { workload, wait: true });
    // 420 events: one page holds them all.
    const { events } = await dash.client.history.events(lab.id, { limit: 1000 });
    expect(events.length).toBeLessThan(1000);
    await page.goto(`${dash.base}#/stream`);
    await page.reload();
    await page.getByTestId('lab-select').selectOption(lab.id);
    await dash.view('stream');
    await expect
      .poll(() => page.getByTestId('stream-counts').textContent())
      .toContain(`${events.length.toLocaleString('en-US')} rows shown`);
    return events;
  }

  it(
    'counts in the round-trip histogram the faults that happened before the page opened',
    async () => {
      const events = await faultedLabOpened('before');
      // One round trip per answered group and per resumed stall, as the server recorded them.
      const trips = events.filter(
        (event) => (event.kind === 'fault.response' && event.group !== null) || event.kind === 'stall.resume',
      ).length;
      expect(trips).toBe(20);
      await expect
        .poll(() => dash.page.getByTestId('latency-summary').textContent())
        .toMatch(new RegExp(`^${trips} round trips · p50 ≥ [\\d.]+ µs`));
    },
    STEP_MS,
  );

  it(
    'searches, ticks a layer, unticks a kind, and the table shows exactly the history of those kinds',
    async () => {
      const { page } = dash;
      const events = await faultedLabOpened('kinds');
      await expect.poll(() => page.getByTestId('latency-summary').textContent()).toContain('20 round trips');
      const button = page.getByTestId('kinds-filter');
      expect(await button.textContent()).toContain('all kinds');
      await button.click();
      expect(await button.getAttribute('aria-expanded')).toBe('true');
      // The search box takes the keyboard at once.
      expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe(
        'kinds-search',
      );
      await page.getByTestId('kinds-none').click();
      expect(await button.textContent()).toContain('no kinds');
      await page.getByTestId('kinds-search').fill('dma');
      // Only the device layer holds kinds named dma.*.
      expect(await page.getByTestId('kinds-group-driver').count()).toBe(0);
      const device = page.getByTestId('kinds-group-device');
      await device.check();
      await page.getByTestId('kind-dma.page').uncheck();
      const chosen: EventKind[] = ['dma.completed', 'dma.faulted', 'dma.aborted', 'dma.retried'];
      for (const kind of chosen) expect(await page.getByTestId(`kind-${kind}`).isChecked()).toBe(true);
      // Some of the group is ticked: the group's box is neither checked nor clear.
      expect(await device.evaluate((box: HTMLInputElement) => box.indeterminate)).toBe(true);
      expect(await button.textContent()).toContain(`4 of `);
      // Every layer again, the device layer's box showing "some".
      await page.getByTestId('kinds-search').fill('');
      expect(await page.getByTestId('kinds-group-driver').isChecked()).toBe(false);
      expect(await device.evaluate((box: HTMLInputElement) => box.indeterminate)).toBe(true);
      await dash.shot('stream-kinds');

      await page.keyboard.press('Escape');
      await expect.poll(() => page.getByTestId('kinds-panel').count()).toBe(0);
      expect(await button.getAttribute('aria-expanded')).toBe('false');
      await page.getByTestId('apply-filter').click();
      await expect.poll(() => page.getByTestId('filter-summary').textContent()).toContain('4 kind(s)');

      // The table: the lab's history of those kinds, newest first, and nothing else.
      const expected = events.filter((event) => chosen.includes(event.kind)).reverse();
      expect(expected.length).toBe(40);
      await expect
        .poll(() => page.getByTestId('stream-counts').textContent())
        .toContain(`${expected.length} rows shown`);
      const rows = page.getByTestId('event-row');
      const shown = await rows.evaluateAll((elements) =>
        elements.map((element) => [
          Number(element.getAttribute('data-seq')),
          element.getAttribute('data-kind'),
        ]),
      );
      expect(shown.length).toBeGreaterThan(10);
      expect(shown).toEqual(expected.slice(0, shown.length).map((event) => [event.seq, event.kind]));

      // Nothing ticked would stream nothing: the form says so instead.
      await button.click();
      await page.getByTestId('kinds-search').fill('');
      await page.getByTestId('kinds-none').click();
      await page.keyboard.press('Escape');
      await page.getByTestId('apply-filter').click();
      expect(await page.getByTestId('filter-problem').getAttribute('data-code')).toBe('no-kinds');
    },
    STEP_MS,
  );

  it('raised no errors in the page', () => {
    expect(dash.pageErrors).toEqual([]);
  });
});
