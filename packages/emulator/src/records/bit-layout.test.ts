import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  carryRecord,
  decodeRecord,
  defineRecord,
  describeLayout,
  encodeRecord,
  fromHex,
  toHex,
} from './bit-layout';
import { recordView } from '../testing/record-view';
import { refusal } from '../testing/refusal';

/**
 * Fields across a byte, across a 64-bit word boundary, a full 64-bit one, a whole aligned 32-bit word and
 * a 40-bit one over two words (the codec's shapes: one piece, several, and too wide for a number).
 */
const SAMPLE = defineRecord({
  id: 'test.sample',
  title: 'sample record',
  bytes: 40,
  source: 'bit-layout.test.ts',
  fields: {
    type: { bit: 0, width: 8, label: 'type', values: { 1: 'one', 2: 'two' } },
    flag: { bit: 8, width: 1, label: 'flag' },
    acrossBytes: { bit: 12, width: 9, label: 'across bytes' },
    acrossWords: { bit: 60, width: 8, label: 'across words' },
    address: { bit: 128, width: 64, label: 'address' },
    aligned: { bit: 192, width: 32, label: 'aligned' },
    forty: { bit: 224, width: 40, label: 'forty' },
  },
});

describe('bit-field records: little-endian, bit n of the record is bit n % 8 of byte n / 8', () => {
  it('puts each field at its bits, byte by byte', () => {
    const bytes = encodeRecord(SAMPLE, { type: 0x2, flag: 1, acrossBytes: 0x1ff, acrossWords: 0xa5 });
    // type 0x02 in byte 0; flag bit 8 = byte 1 bit 0; 0x1ff at bits 12..20 = byte 1 bits 4-7, byte 2 all,
    // byte 2 bit 0..4 (0x1f); 0xa5 at bits 60..67: low nibble 5 in byte 7 bits 4-7, high nibble a in byte 8.
    expect(toHex(bytes.subarray(0, 9))).toBe('02f11f00000000500a');
  });

  it('round-trips every field, a 64-bit one exactly as a bigint', () => {
    const values = {
      type: 1n,
      flag: 0n,
      acrossBytes: 0x155n,
      acrossWords: 0x81n,
      address: 0xfffffffffffff123n,
      aligned: 0xfedcba98n,
      forty: 0xab_cdef_0123n,
    };
    expect(decodeRecord(SAMPLE, encodeRecord(SAMPLE, values))).toEqual(values);
  });

  it('is described in bit order, and carried with numbers, hex for a field wider than 53 bits, enum names', () => {
    const bytes = encodeRecord(SAMPLE, { type: 2, address: 0x1_0000_0000_0000_0000n - 1n });
    const view = recordView(SAMPLE, bytes);
    const carried = carryRecord(SAMPLE, bytes);
    expect(view.fields.map((field) => field.name)).toEqual([
      'type',
      'flag',
      'acrossBytes',
      'acrossWords',
      'address',
      'aligned',
      'forty',
    ]);
    expect(view.fields[0]).toMatchObject({ value: 2, meaning: 'two', bit: 0, width: 8 });
    expect(view.fields[4]!.value).toBe('0xffffffffffffffff');
    expect(carried.fields.address).toBe('0xffffffffffffffff');
    expect(carried.hex).toHaveLength(80);
    expect(fromHex(carried.hex)).toEqual(encodeRecord(SAMPLE, { type: 2, address: 2n ** 64n - 1n }));
  });

  it('encodes numbers as bigints do, and carries what a full decode finds (hex for fields past 53 bits)', () => {
    const fieldValue = (width: number) => fc.bigInt({ min: 0n, max: (1n << BigInt(width)) - 1n });
    fc.assert(
      fc.property(
        fc.record({
          type: fieldValue(8),
          flag: fieldValue(1),
          acrossBytes: fieldValue(9),
          acrossWords: fieldValue(8),
          address: fieldValue(64),
          aligned: fieldValue(32),
          forty: fieldValue(40),
        }),
        (values) => {
          const bytes = encodeRecord(SAMPLE, values);
          const small = { ...values, address: undefined };
          const asNumbers = Object.fromEntries(
            Object.entries(small).map(([name, value]) => [name, value === undefined ? value : Number(value)]),
          );
          const numbered = encodeRecord(SAMPLE, asNumbers);
          expect(numbered.subarray(0, 16)).toEqual(bytes.subarray(0, 16));
          expect(numbered.subarray(24)).toEqual(bytes.subarray(24));
          const carried = carryRecord(SAMPLE, bytes);
          const decoded = decodeRecord(SAMPLE, bytes);
          expect(carried.hex).toBe(toHex(bytes));
          for (const [name, value] of Object.entries(decoded))
            expect(carried.fields[name]).toEqual(
              name === 'address' ? `0x${value.toString(16)}` : Number(value),
            );
        },
      ),
      { seed: 14 },
    );
  });

  it('describes a layout with its fields in bit order, for drawing carried records', () => {
    const description = describeLayout(SAMPLE);
    expect(description.fields.map((field) => [field.name, field.bit, field.width])).toEqual([
      ['type', 0, 8],
      ['flag', 8, 1],
      ['acrossBytes', 12, 9],
      ['acrossWords', 60, 8],
      ['address', 128, 64],
      ['aligned', 192, 32],
      ['forty', 224, 40],
    ]);
    expect(description.fields[0]!.values).toEqual({ 1: 'one', 2: 'two' });
  });

  it('refuses a value wider than its field, an unknown field, a non-integer and bytes of the wrong size', () => {
    expect(refusal(() => encodeRecord(SAMPLE, { acrossBytes: 0x200 })).reason).toBe('out-of-range');
    expect(refusal(() => encodeRecord(SAMPLE, { flag: -1 })).reason).toBe('out-of-range');
    expect(
      refusal(() => encodeRecord(SAMPLE, { nope: 1 } as unknown as Parameters<typeof encodeRecord>[1]))
        .reason,
    ).toBe('unknown-field');
    expect(refusal(() => encodeRecord(SAMPLE, { address: 2 ** 60 + 0.5 })).code).toBe('EINVAL');
    expect(refusal(() => decodeRecord(SAMPLE, new Uint8Array(16))).reason).toBe('size');
    expect(refusal(() => fromHex('0g')).reason).toBe('not-hex');
    expect(refusal(() => fromHex('abc')).reason).toBe('not-hex');
  });

  it('refuses, when defined, a layout whose fields overlap or leave the record', () => {
    const base = { id: 'test.bad', title: 'bad', bytes: 8, source: 'test' };
    expect(() =>
      defineRecord({
        ...base,
        fields: { a: { bit: 0, width: 8, label: 'a' }, b: { bit: 7, width: 2, label: 'b' } },
      }),
    ).toThrow(/overlaps/);
    expect(() => defineRecord({ ...base, fields: { a: { bit: 60, width: 5, label: 'a' } } })).toThrow(
      /outside 64 bits/,
    );
    expect(() => defineRecord({ ...base, bytes: 6, fields: {} })).toThrow(/32-bit words/);
  });
});
