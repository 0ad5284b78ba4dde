/**
 * The fault timeline in Chromium: a live lab's flows on their tracks, following the clock; a flow's
 * anatomy, its events and its jumps, checked against the API; zoom to nanoseconds; a saved nested run with
 * its stage-1 and stage-2 faults on tracks of their own.
 */
import { describe, expect, it } from 'vitest';
import type { FlowRecord, WorkloadSpec } from '@iommu-lab/client';
import { HOP_COLUMNS } from '../src/lib/timeline/sources';
import { CHROMIUM, STEP_MS, requireDebianPackage, useDashboard } from './dashboard';

const browserPackage = requireDebianPackage('the fault timeline, end to end', CHROMIUM);

describe.skipIf(!browserPackage.present)('the fault timeline, in Chromium', () => {
  const dash = useDashboard();

  async function allFlows(lab: string): Promise<FlowRecord[]> {
    const all: FlowRecord[] = [];
    for (let after = -1; ;) {
      const page = await dash.client.flows(lab, { after, limit: 1000 });
      all.push(...page.flows);
      if (page.flows.length < 1000 || page.next < 0) return all;
      after = page.next;
    }
  }

  /** The lab's ended DMA transactions (the events that end one). */
  async function transactionEnds(lab: string): Promise<number> {
    let count = 0;
    for (let after = -1; ;) {
      const page = await dash.client.history.events(lab, {
        after,
        limit: 1000,
        kinds: 'dma.completed,dma.faulted',
      });
      count += page.events.length;
      if (page.events.length < 1000) return count;
      after = page.next;
    }
  }

  const canvas = () => dash.page.getByTestId('timeline-canvas');
  const data = async (name: string) => canvas().getAttribute(`data-${name}`);

  /** Reads where the page says the selected flow's bar is, clears the selection, and clicks there. */
  async function clickSelectedBar(): Promise<void> {
    const rect = (await data('selected-rect'))!.split(',').map(Number);
    await canvas().press('Escape');
    await expect.poll(() => data('selected-rect')).toBeNull();
    await canvas().click({ position: { x: rect[0]! + rect[2]! / 2, y: rect[1]! + rect[3]! / 2 } });
  }

  it(
    'draws every ended flow of a live lab on device, queue, handler and address-space tracks, and follows the clock',
    async () => {
      const { page, client } = dash;
      const preset = (await client.presets()).find((each) => each.id === 'sva-pri-vtd')!;
      const workload = structuredClone(preset.workload) as WorkloadSpec;
      for (const stream of workload.streams) stream.count = 40;
      const lab = await client.labs.create({ preset: preset.id, name: 'timeline' });
      await client.workload(lab.id, { workload, wait: true });
      const flows = await allFlows(lab.id);
      expect(flows.length).toBeGreaterThan(5);

      await page.goto(`${dash.base}#/timeline`);
      await page.getByTestId('lab-select').selectOption(lab.id);
      await page.getByTestId('view-timeline').waitFor();
      await expect.poll(() => data('flows')).toBe(String(flows.length));
      const tracks = (await data('tracks'))!.split('\n');
      const device = flows[0]!;
      expect(tracks).toContain(`${device.device} · PASID ${device.pasid}`);
      expect(tracks).toContain(`${device.iommu} · hardware queue`);
      expect(tracks).toContain(`handler ${device.handler}`);
      expect(tracks.some((track) => track.startsWith('address space '))).toBe(true);

      // More DMA: the new flows arrive and the window's end moves to the lab's clock.
      const endBefore = Number(await data('end-ns'));
      // The same seed would touch the same (now resident) pages: aim at the next 16 MiB of the process.
      for (const stream of workload.streams)
        stream.base = `0x${(BigInt(stream.base!) + 16n * 1024n * 1024n).toString(16)}`;
      await client.workload(lab.id, { workload, wait: true });
      const more = await allFlows(lab.id);
      expect(more.length).toBeGreaterThan(flows.length);
      await expect.poll(() => data('flows')).toBe(String(more.length));
      // Each DMA transaction of the lab is a bar of its own on the device's DMA track.
      await expect.poll(() => data('transactions')).toBe(String(await transactionEnds(lab.id)));
      expect((await data('tracks'))!.split('\n')).toContain(`${device.device} · DMA`);
      const clock = await client.labs.clock(lab.id);
      await expect.poll(async () => Number(await data('end-ns'))).toBe(clock.timeNs);
      expect(clock.timeNs).toBeGreaterThan(endBefore);
      await page.getByTestId('timeline-fit').click();
      await dash.shot('timeline-live');
      expect(dash.pageErrors).toEqual([]);
    },
    4 * STEP_MS,
  );

  it(
    "a flow's anatomy, events and jumps agree with the API; a click on its bar selects it; zoom reaches nanoseconds",
    async () => {
      const { page, client } = dash;
      const lab = (await client.labs.list()).find((each) => each.name === 'timeline')!.id;
      const slowest = (await client.flows(lab, { slowest: 1 })).flows[0]!;
      const story = await client.flow(lab, slowest.flow);

      await page.getByTestId('flow-row').first().click();
      const detail = page.getByTestId('flow-detail');
      await expect
        .poll(() => detail.getByTestId('flow-detail-head').textContent())
        .toContain(`#${slowest.flow}`);
      expect(await detail.getByTestId('flow-detail-hops').locator('tbody tr').count()).toBe(
        slowest.hops.length,
      );
      expect(await detail.getByTestId('flow-detail-answer').textContent()).toContain(slowest.code!);
      await expect
        .poll(() => detail.getByTestId('flow-detail-events').locator('li').count())
        .toBe(story.events.length);

      // Its bar on the canvas, where the page says it is: a click there selects it again.
      await clickSelectedBar();
      await expect
        .poll(() => detail.getByTestId('flow-detail-head').textContent())
        .toContain(`#${slowest.flow}`);

      // The group's other requests: as many as the API lists for that device and group.
      const group = (await allFlows(lab)).filter(
        (flow) =>
          flow.device === slowest.device && flow.group === slowest.group && flow.flow !== slowest.flow,
      );
      await detail.getByTestId('flow-jump-group').click();
      await expect.poll(() => detail.getByTestId('flow-related').textContent()).toContain(`${group.length}`);

      // Its DMA transaction's other flows (and the transaction's own bar, outlined, not counted).
      const transaction = (await allFlows(lab)).filter(
        (flow) => flow.transaction === slowest.transaction && flow.flow !== slowest.flow,
      );
      await detail.getByTestId('flow-jump-transaction').click();
      await expect
        .poll(async () => (await detail.getByTestId('flow-related').textContent())!.replace(/\s+/g, ' '))
        .toContain(`${transaction.length} other flow(s) of transaction #${slowest.transaction}`);

      // The walk of its address: the table as it is now, said so.
      await detail.getByTestId('flow-jump-walk').click();
      await detail.getByTestId('flow-walk-note').waitFor();
      expect(await detail.getByTestId('flow-walk-note').textContent()).toContain('keeps no past page tables');
      expect(await detail.getByTestId('flow-walk-stage1').locator('li').count()).toBeGreaterThan(1);
      await dash.shot('timeline-detail');

      // Zoom in on the selected flow until the axis counts nanoseconds.
      await detail.getByTestId('flow-frame').click();
      for (let i = 0; i < 40; i++) await canvas().press('w');
      const span = Number(await data('end-ns')) - Number(await data('start-ns'));
      expect(span).toBeLessThan(1000);
      expect(await page.getByTestId('timeline-window').textContent()).toMatch(/ ns of simulated time/);
      expect(dash.pageErrors).toEqual([]);
    },
    4 * STEP_MS,
  );

  it(
    'opens a saved nested run from its fault log: every record, stage-1 and stage-2 faults on their own tracks',
    async () => {
      const { page, client } = dash;
      const preset = (await client.presets()).find((each) => each.id === 'nested-guest-sva')!;
      const workload = structuredClone(preset.workload) as WorkloadSpec;
      for (const stream of workload.streams) stream.count = 200;
      const experiment = await client.experiments.create({
        name: 'nested-timeline',
        config: { version: 1, system: preset.config, workload, seed: 3 } as never,
      });
      const started = await client.runs.start(experiment.id, { label: 'nested' });
      await expect
        .poll(async () => (await client.runs.get(started.id)).status, { timeout: 60_000 })
        .toBe('done');
      const run = await client.runs.get(started.id);
      const page1 = await client.runs.faults(run.id, { limit: 10_000 });
      const stages = new Set(page1.records.map((record) => record.stage));
      expect(stages).toEqual(new Set([1, 2]));

      // From the run's results in the Experiments view, its link opens the timeline on the run.
      await page.goto(`${dash.base}#/experiments`);
      await page.getByTestId('view-experiments').waitFor();
      await page.getByTestId('experiment-nested-timeline').click();
      await page.getByTestId('open-nested').click();
      await page.getByTestId('run-timeline').click();
      await page.getByTestId('view-timeline').waitFor();
      expect(page.url()).toContain(`#/timeline?run=${run.id}`);
      await expect.poll(() => data('flows')).toBe(String(run.faultRecords));
      // The run's series, drawn above the tracks, counts the same flows.
      await expect.poll(() => data('series-flows')).toBe(String(run.faultRecords));
      const tracks = (await data('tracks'))!.split('\n');
      expect(tracks.some((track) => track.endsWith('stage 1'))).toBe(true);
      expect(tracks.some((track) => track.endsWith('stage 2'))).toBe(true);
      expect(await page.getByTestId('timeline-run-label').textContent()).toContain('nested');

      // A stage-2 flow's detail names its stage; a run keeps no events or page tables, and says so.
      const stage2 = page1.records.find((record) => record.stage === 2)!;
      // A flow id that is not on the timeline is said so, and changes nothing.
      await page.getByTestId('timeline-find').fill('999999');
      await page.getByTestId('timeline-find').press('Enter');
      await expect
        .poll(() => page.getByTestId('view-timeline').textContent())
        .toContain('No flow #999999 on this timeline.');
      expect(await data('selected-rect')).toBeNull();
      await page.getByTestId('timeline-find').fill(String(stage2.flow));
      await page.getByTestId('timeline-find').press('Enter');
      const detail = page.getByTestId('flow-detail');
      await expect
        .poll(() => detail.getByTestId('flow-detail-head').textContent())
        .toContain(`#${stage2.flow}`);
      expect(await detail.getByTestId('flow-detail-stage').textContent()).toBe('stage 2');
      expect(await detail.textContent()).toContain('A saved run keeps its fault log');
      await expect.poll(() => data('selected-rect')).not.toBeNull();
      // Its hops are the fault log's non-null hop columns; a click on its bar selects it again.
      const hopColumns = HOP_COLUMNS.filter(([, column]) => stage2[column] !== null);
      expect(await detail.getByTestId('flow-detail-hops').locator('tbody tr').count()).toBe(
        hopColumns.length,
      );
      await clickSelectedBar();
      await expect
        .poll(() => detail.getByTestId('flow-detail-head').textContent())
        .toContain(`#${stage2.flow}`);
      await dash.shot('timeline-run');
      expect(dash.pageErrors).toEqual([]);
    },
    4 * STEP_MS,
  );
});
