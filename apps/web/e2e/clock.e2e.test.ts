/**
 * The clock's labels against the simulated time that actually passed (issue 12: they were 1000× off). The
 * page runs a lab's clock at a speed chosen by its label, and the simulated time the API reports over a
 * measured wall interval must be what the label says, within a factor that tolerates a loaded machine but
 * not a unit slip (1000×). The page's own pace line must say the same.
 */
import { describe, expect, it } from 'vitest';
import { CHROMIUM, STEP_MS, requireDebianPackage, useDashboard } from './dashboard';

const browserPackage = requireDebianPackage('the clock, end to end', CHROMIUM);

/** "1.00 ms of simulated time per second" → ns per second. */
function nsPerSecond(label: string): number {
  const match = /([\d.,]+) (ns|µs|ms|s) of simulated time per second/.exec(label);
  if (!match) throw new Error(`no pace in "${label}"`);
  const unit = { ns: 1, µs: 1e3, ms: 1e6, s: 1e9 }[match[2] as 'ns' | 'µs' | 'ms' | 's'];
  return Number(match[1]!.replace(/,/g, '')) * unit;
}

describe.skipIf(!browserPackage.present)('the clock, end to end in Chromium', () => {
  const dash = useDashboard();

  it(
    'runs at the pace its label names, and shows simulated and wall time side by side',
    async () => {
      const { page } = dash;
      await page.goto(`${dash.base}#/lab`);
      await page.getByLabel('Name (optional)').fill('clock');
      await page.getByTestId('create-empty-lab').click();
      await expect.poll(() => page.getByTestId('current-lab').textContent()).toContain('clock');
      const lab = (await dash.client.labs.list()).find((each) => each.name === 'clock')!;
      await dash.view('stream');

      // Chosen by its label, the way a person picks it.
      const option = page.getByTestId('clock-speed').locator('option', { hasText: '1.00 ms of simulated' });
      const label = (await option.textContent())!;
      await page.getByTestId('clock-speed').selectOption({ label });
      await page.getByTestId('clock-run').click();
      await expect.poll(() => page.getByTestId('clock-state').textContent()).toContain('running');

      const before = await dash.client.labs.clock(lab.id);
      const wallBefore = performance.now();
      await page.getByTestId('clock-pace').waitFor();
      await expect.poll(() => performance.now() - wallBefore, { timeout: 10_000 }).toBeGreaterThan(2000);
      const after = await dash.client.labs.clock(lab.id);
      const wallSeconds = (performance.now() - wallBefore) / 1000;

      const claimed = nsPerSecond(label);
      const passed = (after.timeNs - before.timeNs) / wallSeconds;
      // The live clock drops debt when the host falls behind, so it may run slow, never fast.
      expect(passed).toBeGreaterThan(claimed / 3);
      expect(passed).toBeLessThan(claimed * 1.5);

      // The page's pace line: simulated and wall time, and a pace in the label's units.
      const pace = (await page.getByTestId('clock-pace').textContent())!;
      expect(pace).toMatch(/simulated in [\d.]+ s wall/);
      const shown = nsPerSecond(pace);
      expect(shown).toBeGreaterThan(claimed / 3);
      expect(shown).toBeLessThan(claimed * 1.5);
      await dash.shot('clock');
      await page.getByTestId('clock-pause').click();
    },
    STEP_MS,
  );

  it('raised no errors in the page', () => {
    expect(dash.pageErrors).toEqual([]);
  });
});
