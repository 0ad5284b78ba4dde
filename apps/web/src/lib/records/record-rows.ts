/**
 * A byte-exact record laid out for drawing (RecordBytes.svelte): one row per word, each row its bytes in
 * memory order and its bits from the highest on the left, as the VT-d and SMMUv3 specs and the kernel's
 * GENMASK comments draw them, cut into the fields of the record's layout with their values. Bits no field
 * covers are shown as reserved. A field across a row boundary appears in each row it spans, marked as
 * continued.
 */
import type { WireLayout, WireRecord } from '@iommu-lab/wire';

export interface Segment {
  /** Field name, or null for reserved bits. */
  name: string | null;
  label: string;
  /** Bits of the record this segment covers, highest first: [hi:lo]. */
  hi: number;
  lo: number;
  /** The whole field's value (hex for wide fields), and the name of an enum value. */
  value: number | string | null;
  meaning: string | null;
  /** The field goes on in another row. */
  continued: boolean;
}

export interface Row {
  /** qw0, qw1… for 64-bit words; dw0… for records of 32-bit words. */
  name: string;
  /** Its bytes in memory order, as two hex digits each. */
  bytes: string[];
  /** Its segments, highest bits first. */
  segments: Segment[];
}

/** Rows of 64 bits when the record is a whole number of them, else of 32. */
export function recordRows(layout: WireLayout, record: WireRecord): Row[] {
  const rowBits = layout.bytes % 8 === 0 ? 64 : 32;
  const prefix = rowBits === 64 ? 'qw' : 'dw';
  const rows: Row[] = [];
  for (let row = 0; row < (layout.bytes * 8) / rowBits; row++) {
    const low = row * rowBits;
    const high = low + rowBits - 1;
    const segments: Segment[] = [];
    let bit = high;
    for (const field of [...layout.fields].sort((a, b) => b.bit - a.bit)) {
      const fieldHi = field.bit + field.width - 1;
      if (field.bit > high || fieldHi < low) continue;
      const hi = Math.min(fieldHi, high);
      const lo = Math.max(field.bit, low);
      if (hi < bit) segments.push(reserved(bit, hi + 1));
      const value = record.fields[field.name] ?? null;
      segments.push({
        name: field.name,
        label: field.label,
        hi,
        lo,
        value,
        meaning: value === null ? null : (field.values?.[String(value)] ?? null),
        continued: hi !== fieldHi || lo !== field.bit,
      });
      bit = lo - 1;
    }
    if (bit >= low) segments.push(reserved(bit, low));
    const byteCount = rowBits / 8;
    const bytes = Array.from({ length: byteCount }, (_, i) =>
      record.hex.slice(2 * (row * byteCount + i), 2 * (row * byteCount + i) + 2),
    );
    rows.push({ name: `${prefix}${row}`, bytes, segments });
  }
  return rows;
}

function reserved(hi: number, lo: number): Segment {
  return { name: null, label: 'reserved', hi, lo, value: null, meaning: null, continued: false };
}

/** A value as the detail shows it: hex, and decimal beside it when that says more. */
export function formatFieldValue(value: number | string | null): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  return value < 10 ? String(value) : `0x${value.toString(16)} (${value})`;
}
