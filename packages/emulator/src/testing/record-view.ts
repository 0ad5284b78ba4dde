/**
 * A record laid out as the dashboard draws it, for tests: each field of the layout as the API serves it
 * (describeLayout, GET /records/layouts) beside its value in `bytes` and, for an enum, the value's name.
 */
import { type RecordLayout, decodeRecord, describeLayout } from '../records/bit-layout';

export interface FieldView {
  name: string;
  label: string;
  bit: number;
  width: number;
  value: number | string;
  meaning?: string;
}

export function recordView(layout: RecordLayout, bytes: Uint8Array): { layout: string; fields: FieldView[] } {
  const values = decodeRecord(layout, bytes) as Record<string, bigint>;
  const fields = describeLayout(layout).fields.map(({ values: names, ...field }): FieldView => {
    const raw = values[field.name]!;
    const meaning = names?.[raw.toString()];
    return {
      ...field,
      value: field.width <= 53 ? Number(raw) : `0x${raw.toString(16)}`,
      ...(meaning === undefined ? {} : { meaning }),
    };
  });
  return { layout: layout.id, fields };
}
