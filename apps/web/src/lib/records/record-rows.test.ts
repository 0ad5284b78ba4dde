import { describe, expect, it } from 'vitest';
import type { WireLayout } from '@iommu-lab/wire';
import { formatFieldValue, recordRows } from './record-rows';

/** Two 64-bit words: fields with reserved bits between them and one across the words. */
const LAYOUT: WireLayout = {
  id: 'test.sample',
  title: 'sample',
  bytes: 16,
  source: 'record-rows.test.ts',
  fields: [
    { name: 'type', label: 'type', bit: 0, width: 8, values: { '1': 'page request' } },
    { name: 'rid', label: 'rid', bit: 16, width: 16 },
    { name: 'across', label: 'across', bit: 60, width: 8 },
    { name: 'addr', label: 'addr', bit: 76, width: 52 },
  ],
};

const RECORD = {
  layout: 'test.sample',
  hex: '0100340200000050' + '0a00000000000000',
  fields: { type: 1, rid: 0x234, across: 0xa5, addr: 0 },
};

describe('a record drawn as rows of words, highest bit first, with reserved bits named', () => {
  const rows = recordRows(LAYOUT, RECORD);

  it('cuts a record of 64-bit words into qw rows of 8 bytes in memory order', () => {
    expect(rows.map((row) => row.name)).toEqual(['qw0', 'qw1']);
    expect(rows[0]!.bytes).toEqual(['01', '00', '34', '02', '00', '00', '00', '50']);
  });

  it('gives every bit of a row to exactly one segment, fields and reserved gaps alike', () => {
    for (const row of rows) {
      const widths = row.segments.reduce((sum, segment) => sum + segment.hi - segment.lo + 1, 0);
      expect(widths).toBe(64);
      for (let i = 1; i < row.segments.length; i++)
        expect(row.segments[i]!.hi).toBe(row.segments[i - 1]!.lo - 1);
    }
    expect(rows[0]!.segments.map((segment) => [segment.label, segment.hi, segment.lo])).toEqual([
      ['across', 63, 60],
      ['reserved', 59, 32],
      ['rid', 31, 16],
      ['reserved', 15, 8],
      ['type', 7, 0],
    ]);
  });

  it('marks a field across two words as continued in both, with its whole value and its meaning', () => {
    const parts = rows.flatMap((row) => row.segments.filter((segment) => segment.name === 'across'));
    expect(parts.map((part) => [part.hi, part.lo, part.continued, part.value])).toEqual([
      [63, 60, true, 0xa5],
      [67, 64, true, 0xa5],
    ]);
    expect(rows[0]!.segments.at(-1)!.meaning).toBe('page request');
  });

  it('uses 32-bit rows for a record that is not a whole number of 64-bit words', () => {
    const small: WireLayout = { ...LAYOUT, bytes: 12, fields: [LAYOUT.fields[0]!] };
    const record = { layout: 'test.small', hex: '01'.padEnd(24, '0'), fields: { type: 1 } };
    expect(recordRows(small, record).map((row) => [row.name, row.bytes.length])).toEqual([
      ['dw0', 4],
      ['dw1', 4],
      ['dw2', 4],
    ]);
  });

  it('shows small values in decimal, larger ones in hex with decimal, wide ones as given', () => {
    expect(formatFieldValue(1)).toBe('1');
    expect(formatFieldValue(0x234)).toBe('0x234 (564)');
    expect(formatFieldValue('0xffffffffffffffff')).toBe('0xffffffffffffffff');
  });
});
