/**
 * The stream view loads the lab's history when it opens (the server keeps it), then follows live, with no
 * gap and no duplicate, its socket in the compact `tuples` encoding; event times are simulated µs with
 * separators.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  EventTupleDecoder,
  type EventTuplesMessage,
  type ServerMessage,
  type WireEvent,
  type WorkloadSpec,
} from '@iommu-lab/client';
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

  /** What the page's stream sockets send and receive from now on, parsed. */
  function streamFrames(page: Page): { sent: Record<string, unknown>[]; received: ServerMessage[] } {
    const frames = { sent: [] as Record<string, unknown>[], received: [] as ServerMessage[] };
    page.on('websocket', (socket) => {
      if (!socket.url().endsWith('/stream')) return;
      socket.on('framesent', ({ payload }) => frames.sent.push(JSON.parse(String(payload))));
      socket.on('framereceived', ({ payload }) => frames.received.push(JSON.parse(String(payload))));
    });
    return frames;
  }

  it(
    'shows what happened before the page opened, then what happens after, each event once',
    async () => {
      const { page } = dash;
      const frames = streamFrames(page);
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

      // The live events came as compact batches, never one JSON object per event, and decode (with the
      // client's decoder) into exactly the events the history gives as JSON.
      const subscriptions = frames.sent.filter((message) => message.type === 'subscribe');
      expect(subscriptions.length).toBeGreaterThan(0);
      for (const subscription of subscriptions) expect(subscription.encoding).toBe('tuples');
      expect(frames.received.filter((message) => message.type === 'events')).toEqual([]);
      const decoder = new EventTupleDecoder();
      const live = frames.received
        .filter((message): message is EventTuplesMessage => message.type === 'event-tuples')
        .flatMap((message) => decoder.decode(message));
      expect(live).toEqual(after.slice(before.length));

      // Selecting a page request shows every field and highlights every row of its flow: its group, the
      // response, the retry, the DMA (events that name the flow), and nothing else.
      // The newest page request, scrolled into the virtualised table (rows are 24 px, newest first).
      const chosen = after.findLast((event) => event.kind === 'pri.page-request')!;
      const seq = chosen.seq;
      const fromNewest = after.length - 1 - after.indexOf(chosen);
      await page
        .locator('[data-testid=event-table] .scroll')
        .evaluate((element, top) => (element.scrollTop = top), Math.max(0, fromNewest * 24 - 120));
      const request = page.locator(`[data-testid=event-row][data-seq="${seq}"]`);
      await request.click();
      const flow = chosen.flow as number;
      expect(await page.getByTestId('event-field-flow').textContent()).toBe(String(flow));
      expect(await page.getByTestId('event-field-timeNs').textContent()).toContain('µs (simulated)');
      const names = (event: WireEvent) =>
        event.flow === flow || (Array.isArray(event.flows) && (event.flows as number[]).includes(flow));
      const ofFlow = new Set(
        after.filter((event) => event.seq !== seq && names(event)).map((event) => event.seq),
      );
      expect(ofFlow.size).toBeGreaterThan(0);
      await expect
        .poll(() => page.getByTestId('event-detail-related').textContent())
        .toBe(`${ofFlow.size} other row(s) of the same flow highlighted`);
      const rows = page.getByTestId('event-row');
      let seen = 0;
      for (let i = 0; i < (await rows.count()); i++) {
        const row = rows.nth(i);
        const rowSeq = Number(await row.getAttribute('data-seq'));
        if (rowSeq === seq) continue;
        expect(await row.getAttribute('data-in-flow'), `row ${rowSeq}`).toBe(
          ofFlow.has(rowSeq) ? 'true' : null,
        );
        if (ofFlow.has(rowSeq)) seen++;
      }
      expect(seen).toBeGreaterThan(0);
      await dash.shot('stream');
    },
    STEP_MS,
  );

  it('raised no errors in the page', () => {
    expect(dash.pageErrors).toEqual([]);
  });
});
