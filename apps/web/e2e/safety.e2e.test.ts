/**
 * State hygiene and safety (issue 12): the landing page offers the server's labs, the name field clears after
 * a create, panels and errors belong to the lab they happened on, deleting a lab asks first, another tab is
 * told its lab was deleted, and the outside handler's "Map, then SUCCESS" ends a fault in one flow.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CHROMIUM, STEP_MS, requireDebianPackage, useDashboard } from './dashboard';

const browserPackage = requireDebianPackage('the dashboard safety suite, end to end', CHROMIUM);

describe.skipIf(!browserPackage.present)('state hygiene and safety, end to end in Chromium', () => {
  const dash = useDashboard();
  /** Picks a lab in the header, as a person does: focusing the select reloads the server's labs. */
  const pick = async (page: Page, lab: string) => {
    const select = page.getByTestId('lab-select');
    await select.blur();
    await select.focus();
    await select.selectOption(lab);
  };

  it(
    'the landing page with labs but none selected lists them to open',
    async () => {
      const first = await dash.client.labs.create({ name: 'first' });
      await dash.client.labs.create({ preset: 'sva-pri-vtd', name: 'second' });
      await dash.page.goto(`${dash.base}#/lab`);
      await dash.page.getByTestId('lab-list').waitFor();
      expect(await dash.page.getByTestId('lab-list').textContent()).toContain('second');
      await dash.shot('landing');
      await dash.page.getByTestId(`open-lab-${first.id}`).click();
      await expect.poll(() => dash.page.getByTestId('current-lab').textContent()).toContain('first');
    },
    STEP_MS,
  );

  it(
    'the name field clears once its lab is created',
    async () => {
      const { page } = dash;
      await page.getByTestId('lab-name').fill('named');
      await page.getByTestId('create-empty-lab').click();
      await expect.poll(() => page.getByTestId('current-lab').textContent()).toContain('named');
      expect(await page.getByTestId('lab-name').inputValue()).toBe('');
    },
    STEP_MS,
  );

  it(
    'panels and errors reset when the lab changes; an error clears after the same action succeeds',
    async () => {
      const { page } = dash;
      const a = await dash.client.labs.create({ preset: 'sva-pri-vtd', name: 'a' });
      const b = await dash.client.labs.create({ preset: 'sva-pri-vtd', name: 'b' });
      await pick(page, a.id);
      await expect.poll(() => page.getByTestId('current-lab').textContent()).toContain(a.id);

      // A refused DMA, then the same DMA aimed right: the refusal goes.
      await page.getByTestId('dma-address').fill('nonsense');
      await page.getByTestId('fire-dma').click();
      await page.getByTestId('dma-error').waitFor();
      await page.getByTestId('dma-address').fill('0x7f0000010000');
      await page.getByTestId('fire-dma').click();
      await page.getByTestId('dma-outcome').waitFor();
      expect(await page.getByTestId('dma-error').count()).toBe(0);

      // A refusal and an outcome on lab a are not lab b's.
      await page.getByTestId('bind').click();
      await page.getByTestId('bind-error').or(page.getByTestId('bind-result')).waitFor();
      await pick(page, b.id);
      await expect.poll(() => page.getByTestId('current-lab').textContent()).toContain(b.id);
      expect(await page.getByTestId('dma-outcome').count()).toBe(0);
      expect(await page.getByTestId('bind-error').count()).toBe(0);
      expect(await page.getByTestId('bind-result').count()).toBe(0);
      expect(await page.getByTestId('dma-address').inputValue()).not.toBe('nonsense');
    },
    STEP_MS,
  );

  it(
    'deleting a lab asks first: dismissed it keeps the lab, confirmed it deletes it',
    async () => {
      const { page } = dash;
      const lab = await dash.client.labs.create({ name: 'doomed' });
      await pick(page, lab.id);
      await expect.poll(() => page.getByTestId('current-lab').textContent()).toContain('doomed');

      await page.getByTestId('delete-lab').click();
      const dialog = page.getByTestId('delete-lab-dialog');
      await dialog.waitFor();
      expect(await dialog.textContent()).toMatch(/Saved experiments\s+and their runs stay/);
      await page.getByTestId('delete-lab-cancel').click();
      await dialog.waitFor({ state: 'hidden' });
      expect((await dash.client.labs.list()).some((each) => each.id === lab.id)).toBe(true);

      await page.getByTestId('delete-lab').click();
      await page.getByTestId('delete-lab-confirm').click();
      await expect
        .poll(async () => (await dash.client.labs.list()).some((each) => each.id === lab.id))
        .toBe(false);
      await page.getByTestId('lab-list').waitFor();
    },
    STEP_MS,
  );

  it(
    'a second tab is told its lab was deleted, and drops it',
    async () => {
      const lab = await dash.client.labs.create({ preset: 'sva-pri-vtd', name: 'shared' });
      const other = await dash.newPage();
      await other.goto(`${dash.base}#/lab`);
      await pick(other, lab.id);
      await expect.poll(() => other.getByTestId('stream-status').textContent()).toContain('open');

      await dash.client.labs.delete(lab.id);
      await other.getByTestId('lab-deleted-note').waitFor();
      expect(await other.getByTestId('lab-deleted-note').textContent()).toContain(lab.id);
      expect(await other.getByTestId('current-lab').count()).toBe(0);
      await dash.shot('lab-deleted', other);
      await other.close();
    },
    STEP_MS,
  );

  it(
    'Map, then SUCCESS ends the transaction without a second fault',
    async () => {
      const { page } = dash;
      const lab = await dash.client.labs.create({ preset: 'vmm-external', name: 'vmm' });
      await pick(page, lab.id);
      await dash.view('stream');
      // One simulated µs per wall ms: the handler's 1 s timeout is far away in wall time.
      await dash.client.labs.clock(lab.id, { action: 'run', speed: 0.001 });
      const dma = dash.client.dma(lab.id, {
        device: 'vf0',
        address: '0x42000',
        length: 256,
        access: 'write',
      });

      const button = page.locator('[data-testid^="map-respond-"]');
      await button.first().waitFor();
      await page.getByTestId('success-hint').waitFor();
      await dash.shot('handler');
      await button.first().click();

      expect(await dma).toMatchObject({ state: 'completed', recoveries: 1 });
      await dash.client.labs.clock(lab.id, { action: 'pause' });
      const groups = await dash.client.history.faults(lab.id, { kinds: 'fault.group' });
      expect(groups.events).toHaveLength(1);
      const flows = await dash.client.flows(lab.id);
      expect(flows.flows.map((flow) => [flow.code, flow.outcome])).toEqual([['SUCCESS', 'resumed']]);
    },
    STEP_MS,
  );

  it('raised no page errors', () => {
    expect(dash.pageErrors).toEqual([]);
  });
});
