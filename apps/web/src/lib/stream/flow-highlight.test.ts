import { describe, expect, it } from 'vitest';
import type { WireEvent } from '@iommu-lab/client';
import { type EventRow, toRow } from '../events';
import { FlowHighlight } from './flow-highlight';

const row = (seq: number, fields: Record<string, unknown>): EventRow =>
  toRow({ seq, timeNs: seq * 10, kind: 'dma.page', ...fields } as WireEvent);

// Flow 7: a page request, its group (with flow 8), the response, the retry; flow 9 elsewhere.
const rows = [
  row(1, { kind: 'pri.page-request', flow: 7 }),
  row(2, { kind: 'pri.page-request', flow: 9 }),
  row(3, { kind: 'fault.group', flows: [7, 8] }),
  row(4, { kind: 'dma.page' }),
  row(5, { kind: 'fault.response', flows: [7, 8] }),
];

describe('FlowHighlight', () => {
  it("finds the rows of the selected row's flows, leaving the selected row out", () => {
    const highlight = new FlowHighlight();
    highlight.select(rows[0]!, rows);
    expect(highlight.count).toBe(2);
    expect(rows.map((each) => highlight.has(each))).toEqual([false, false, true, false, true]);
  });

  it('counts rows of any of the flows a group names', () => {
    const highlight = new FlowHighlight();
    highlight.select(rows[2]!, rows);
    expect(rows.filter((each) => highlight.has(each)).map((each) => each.seq)).toEqual([1, 5]);
  });

  it('takes in new rows as they arrive, without looking at the old ones again', () => {
    const highlight = new FlowHighlight();
    highlight.select(rows[0]!, rows.slice(0, 3));
    expect(highlight.count).toBe(1);
    highlight.add([rows[3]!, rows[4]!, row(6, { kind: 'dma.retried', flows: [7] })]);
    expect(highlight.count).toBe(3);
    // A row handed in again is not counted twice.
    highlight.add([rows[4]!]);
    expect(highlight.count).toBe(3);
  });

  it('forgets related rows the ring pushed out', () => {
    const highlight = new FlowHighlight();
    highlight.select(rows[4]!, rows);
    expect(highlight.count).toBe(2);
    highlight.forgetBefore(2);
    expect(highlight.has(rows[0]!)).toBe(false);
    expect(highlight.has(rows[2]!)).toBe(true);
    expect(highlight.count).toBe(1);
  });

  it('highlights nothing for no selection or an event without a flow', () => {
    const highlight = new FlowHighlight();
    highlight.select(rows[0]!, rows);
    highlight.select(null, rows);
    expect(highlight.count).toBe(0);
    highlight.select(rows[3]!, rows);
    highlight.add(rows);
    expect(highlight.count).toBe(0);
  });
});
