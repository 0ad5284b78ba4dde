/**
 * End to end (issue 13, the overflow storm): a live lab whose workload storms its page request queue stops
 * as a livelock when the dashboard runs its clock, and every view of the lab says that it stopped and why,
 * with the figures of the `fault.livelock` event, as a failed run does; a reset clears it.
 */
import { describe, expect, it } from 'vitest';
import type { WireEvent } from '@iommu-lab/client';
import { overflowStormExperiment } from '../../api/src/testing/overflow-storm';
import { CHROMIUM, STEP_MS, requireDebianPackage, useDashboard } from './dashboard';

const browserPackage = requireDebianPackage('a live lab stopped by a livelock, end to end', CHROMIUM);

describe.skipIf(!browserPackage.present)('a live lab stopped by a livelock, in Chromium', () => {
  const dash = useDashboard();

  it(
    'runs the stormed lab from the clock controls, then shows it stopped with the livelock’s figures',
    async () => {
      const { page, client } = dash;
      const { system, workload } = overflowStormExperiment();
      const lab = await client.labs.create({ config: system as never, name: 'storm' });
      await page.goto(`${dash.base}#/stream`);
      await page.getByTestId('lab-select').selectOption(lab.id);
      await dash.view('stream');
      expect(await page.getByTestId('lab-stopped').count()).toBe(0);

      // The workload waits on the paused lab; the dashboard's clock carries it into the storm.
      await client.workload(lab.id, { workload: workload as never, wait: false });
      await page.getByTestId('clock-speed').selectOption('max');
      await page.getByTestId('clock-run').click();
      await expect.poll(async () => (await client.labs.get(lab.id)).clock.stopped?.reason).toBe('livelock');
      const { stopped } = (await client.labs.get(lab.id)).clock;
      const figures = stopped!.livelock;
      const { events } = await client.history.faults(lab.id, { kinds: 'fault.livelock' });
      const event = events[0] as WireEvent;
      expect(events).toHaveLength(1);
      expect(figures).toMatchObject({
        queue: event.queue,
        lostRequests: event.lostRequests,
        usefulFaults: event.usefulFaults,
        bound: event.bound,
      });

      // Said as a failed run says it, with the event's figures: the queue, what was lost, what got through, the bound.
      const note = page.getByTestId('lab-stopped');
      const said = async () => (await note.textContent())?.replace(/\s+/g, ' ').trim();
      const expected = `stopped: ${stopped!.message}. Nothing runs in this lab after it; reset the lab to run it again.`;
      await expect.poll(said).toBe(expected);
      const count = (n: unknown) => Number(n).toLocaleString('en-US');
      expect(stopped!.message).toContain(`on vtd0 (PRQ)`);
      expect(stopped!.message).toContain(
        `${count(figures.lostRequests)} of ${count(figures.windowRequests)}`,
      );
      expect(stopped!.message).toMatch(
        figures.usefulFaults === 0
          ? /not one got through/
          : new RegExp(`for ${count(figures.usefulFaults)} that`),
      );
      expect(stopped!.message).toContain(`bound of ${count(figures.bound)}`);
      expect(await page.getByTestId('lab-stopped-badge').textContent()).toBe('stopped: livelock');
      // The stream does not just go quiet: its newest row is the livelock, and nothing came after it.
      await expect
        .poll(() => page.getByTestId('event-row').first().getAttribute('data-seq'))
        .toBe(String(event.seq));
      await dash.shot('lab-stopped-livelock');

      // The lab view says the same.
      await dash.view('lab');
      expect(await said()).toBe(expected);

      // A reset builds the system again, and the dashboard follows it.
      await client.labs.clock(lab.id, { action: 'pause' });
      await client.labs.reset(lab.id);
      await expect.poll(() => note.count()).toBe(0);
      expect(await page.getByTestId('lab-stopped-badge').count()).toBe(0);
    },
    STEP_MS,
  );

  it('raised no errors in the page', () => {
    expect(dash.pageErrors).toEqual([]);
  });
});
