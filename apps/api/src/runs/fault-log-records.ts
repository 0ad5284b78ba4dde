/**
 * A fault flow's byte-exact records in the fault log: stored as JSON text of [layout id, hex] pairs in
 * the order the flow lists them (FlowRecord.records), and read back as events carry them, their fields
 * decoded from the hex by the emulator's layouts (carryStoredRecord: the reader the events use). The
 * stored form in one place: the collector writes it, the fault-log routes read it.
 */
import { type CarriedRecord, type FlowRecordEntry, carryStoredRecord } from '@iommu-lab/emulator';
import type { FaultRecordView } from '@iommu-lab/db';

/**
 * The column's text for a flow, built once when the flow ends. Layout ids (`vtd.page-request-descriptor`)
 * and lowercase hex need no JSON escaping, so the text is written out directly: the same text as
 * JSON.stringify of the pairs, without building the pairs for every fault of a run (about 1 µs for a VT-d
 * PRI flow's six records here, against 3 µs).
 */
export function storedRecordsText(records: readonly FlowRecordEntry[]): string {
  let text = '[';
  for (let i = 0; i < records.length; i++) {
    const { layout, hex } = records[i]!.record;
    text += i === 0 ? `["${layout}","${hex}"]` : `,["${layout}","${hex}"]`;
  }
  return `${text}]`;
}

/** A fault-log row as the JSON page and JSONL give it: its records decoded, null for a row older than them. */
export function withStoredRecords(
  row: FaultRecordView,
): Omit<FaultRecordView, 'records'> & { records: CarriedRecord[] | null } {
  return { ...row, records: storedRecords(row.records) };
}

function storedRecords(text: string | null): CarriedRecord[] | null {
  return text === null ? null : pairsOf(text).map(([layout, hex]) => carryStoredRecord(layout, hex));
}

/** The CSV cell: each record as `layout:hex`, separated by spaces; empty for none. */
export function storedRecordsCell(text: string | null): string {
  return text === null
    ? ''
    : pairsOf(text)
        .map(([layout, hex]) => `${layout}:${hex}`)
        .join(' ');
}

function pairsOf(text: string): [string, string][] {
  return JSON.parse(text) as [string, string][];
}
