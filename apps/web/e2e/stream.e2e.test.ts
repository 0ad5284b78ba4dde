/**
 * The stream view loads the lab's history when it opens (the server keeps it), then follows live, with no
 * gap and no duplicate; event times are simulated µs with separators.
 */
import { describe, expect, it } from 'vitest';
import type { WireEvent, WorkloadSpec } from '@iommu-lab/client';
import { CHROMIUM, STEP_MS, requireDebianPackage, useDashboard } from './dashboard';

const browserPackage = requireDebianPackage('the stream, end to end', CHROMIUM);

describe.skipIf(!browserPackage.present)('the stream view, in Chromium', () => {
  const dash = useDashboard();

  /** Every event the server kept for the lab, paged. */
  async function history(lab: string): Promise<WireEvent[]> {
    const all: WireEvent[] = [];
    for (let after = -1; ;) {
      const page = await dash.client.history.events(lab, { after, limit: 1000 });
      all.push(...page.events);
      if (page.events.length < 1000) return all;
      after = page.next;
    }
  }

  it(
    'shows what happened before the page opened, then what happens after, each event once',
    async () => {
      const { page } = dash;
      const preset = (await dash.client.presets()).find((each) => each.id === 'sva-pri-vtd')!;
      const workload = structuredClone(preset.workload) as WorkloadSpec;
      for (const stream of workload.streams) stream.count = 20;
      const lab = await dash.client.labs.create({ preset: preset.id, name: 'history' });
      await dash.client.workload(lab.id, { workload, wait: true });
      const before = await history(lab.id);
      expect(before.some((event) => event.kind === 'pri.page-request')).toBe(true);

      await page.goto(`${dash.base}#/stream`);
      await page.getByTestId('lab-select').selectOption(lab.id);
      await dash.view('stream');
      const counts = page.getByTestId('stream-counts');
      await expect
        .poll(() => counts.textContent())
        .toContain(`${before.length.toLocaleString('en-US')} rows shown`);
      // The newest event is the table's first row (newest on top), at its simulated time in µs.
      const first = page.getByTestId('event-row').first();
      expect(await first.locator('[role=cell]').first().textContent()).toBe(String(before.at(-1)!.seq));
      const time = (before.at(-1)!.timeNs / 1000).toLocaleString('en-US', { minimumFractionDigits: 3 });
      expect(await first.locator('[role=cell]').nth(1).textContent()).toBe(time);
      expect(await page.getByTestId('event-table').textContent()).toContain('time µs');

      // Live from here: the table grows by exactly what the server records.
      await dash.client.workload(lab.id, { workload, wait: true });
      const after = await history(lab.id);
      expect(after.length).toBeGreaterThan(before.length);
      await expect
        .poll(() => counts.textContent())
        .toContain(`${after.length.toLocaleString('en-US')} rows shown`);
      await dash.shot('stream');
    },
    STEP_MS,
  );

  it('raised no errors in the page', () => {
    expect(dash.pageErrors).toEqual([]);
  });
});
