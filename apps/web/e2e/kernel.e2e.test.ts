/**
 * Kernel detail in the inspector (issue 12): a page walk shows, for every level, the table's physical
 * address, the raw entry and its bits decoded by the entry format, exactly as the API's walk gives them.
 */
import { describe, expect, it } from 'vitest';
import { CHROMIUM, STEP_MS, requireDebianPackage, useDashboard } from './dashboard';

const browserPackage = requireDebianPackage('kernel detail, end to end', CHROMIUM);

describe.skipIf(!browserPackage.present)('kernel detail in the inspector, in Chromium', () => {
  const dash = useDashboard();

  it(
    'a walk shows each level’s table PA, raw entry and decoded bits, equal to the API’s walk',
    async () => {
      const { page } = dash;
      const lab = await dash.client.labs.create({ preset: 'passthrough-pinned', name: 'walked' });
      const iova = '0x123000';
      const walk = await dash.client.domains.walk(lab.id, 'vm', iova);
      const levels = walk.stage2 ?? walk.stage1 ?? [];
      const stage = walk.stage2 ? 'stage2' : 'stage1';
      expect(levels.length).toBeGreaterThan(1);

      await page.goto(`${dash.base}#/inspector`);
      await page.getByTestId('lab-select').selectOption(lab.id);
      await page.getByTestId('walk-domain').selectOption('vm');
      await page.getByTestId('walk-iova').fill(iova);
      await page.getByTestId('walk').click();
      await page.getByTestId(`walk-${stage}`).waitFor();
      expect(await page.getByTestId(`walk-${stage}`).locator('h3, li').count()).toBeGreaterThan(0);
      // The format the bits were decoded by is named (VT-d second level for a DMA domain on VT-d).
      expect(walk.format?.[stage]).toBeTruthy();
      expect(await page.locator('h3', { hasText: walk.format![stage]! }).count()).toBe(1);

      for (const level of levels) {
        const at = `walk-${stage}-l${level.level}`;
        expect(level.tablePa).toMatch(/^0x[0-9a-f]+$/);
        expect(await page.getByTestId(`${at}-table-pa`).textContent()).toBe(`table PA ${level.tablePa}`);
        expect(await page.getByTestId(`${at}-raw`).textContent()).toBe(level.raw);
        const bits = (await page.getByTestId(`${at}-bits`).textContent())!;
        for (const field of level.bits ?? []) expect(bits).toContain(`${field.name}=${field.value}`);
      }
      // A pointer's address is its child's table: the walk is a chain, not numbers made up per level.
      for (let i = 0; i + 1 < levels.length; i++) {
        const pointer = levels[i]!.bits?.find((field) => /ADDR|OA/.test(field.name));
        expect(pointer, `level ${levels[i]!.level} has an address field`).toBeTruthy();
        expect(BigInt(String(pointer!.value))).toBe(BigInt(levels[i + 1]!.tablePa!));
      }
      await dash.shot('walk-decoded');
    },
    STEP_MS,
  );

  it('raised no errors in the page', () => {
    expect(dash.pageErrors).toEqual([]);
  });
});
