/**
 * Byte-exact records: a hardware descriptor, a PCIe message or a kernel struct, described once as a table
 * of bit fields and encoded and decoded from that table alone. Every record here is little-endian (the
 * VT-d and SMMUv3 queues are arrays of little-endian 64-bit words, and the Linux and iommufd structs are
 * laid out for little-endian x86-64 and arm64), so a field is `width` bits from bit `bit` of the record's
 * bytes read as one little-endian number: bit 67 is bit 3 of the second 64-bit word, as a GENMASK_ULL(11, 3)
 * on qw1 is. The same table is what a person sees: `recordView` carries each field's place and width, so
 * the dashboard draws the bytes with their fields labelled without a copy of the layout.
 *
 * Records are built only where someone reads them (an event with a listener, an API answer), never on
 * the fault path itself, so the codec works in BigInt over the whole record rather than word by word.
 */
import { fail } from '../errors';

/** One field: `width` bits from bit `bit` of the record (little-endian), as its source names it. */
export interface FieldSpec {
  readonly bit: number;
  readonly width: number;
  /** The name in the source (`prg_index`, `EVTQ_1_STAG`); the key is its camelCase form. */
  readonly label: string;
  /** Names of an enum field's values (a record type, a response code). */
  readonly values?: Readonly<Record<number, string>>;
}

export interface RecordLayout<Name extends string = string> {
  /** Stable id, `<owner>.<record>`: `vtd.page-request-descriptor`. */
  readonly id: string;
  readonly title: string;
  readonly bytes: number;
  /** Where the layout is defined: the spec table or the kernel header and struct. */
  readonly source: string;
  readonly fields: Readonly<Record<Name, FieldSpec>>;
}

export type FieldValues<Name extends string> = Partial<Record<Name, number | bigint>>;

/** A field as an event or an API answer shows it: its place, its value and, for enums, the value's name. */
export interface FieldView {
  readonly name: string;
  readonly label: string;
  readonly bit: number;
  readonly width: number;
  /** A number when exact (≤ 2^53), else `0x…`. */
  readonly value: number | string;
  readonly meaning?: string;
}

/** A record as it leaves the emulator: which layout, the bytes in memory order as hex, the fields. */
export interface RecordView {
  readonly layout: string;
  readonly title: string;
  readonly source: string;
  readonly bytes: number;
  readonly hex: string;
  readonly fields: readonly FieldView[];
}

/**
 * A layout, checked once when its module loads: every field inside the record, none overlapping another
 * (a mistake in a table is a bug of the lab, so it throws at once rather than encode wrong bytes).
 */
export function defineRecord<Name extends string>(layout: RecordLayout<Name>): RecordLayout<Name> {
  const size = layout.bytes * 8;
  let used = 0n;
  for (const [name, field] of Object.entries<FieldSpec>(layout.fields)) {
    const { bit, width } = field;
    if (!Number.isInteger(bit) || !Number.isInteger(width) || bit < 0 || width < 1 || bit + width > size)
      throw new Error(`${layout.id}: field ${name} (bit ${bit}, ${width} wide) is outside ${size} bits`);
    const mask = maskOf(width) << BigInt(bit);
    if ((used & mask) !== 0n) throw new Error(`${layout.id}: field ${name} overlaps another field`);
    used |= mask;
  }
  return layout;
}

/** The record's bytes with `values` in their fields; a field not given is 0. */
export function encodeRecord<Name extends string>(
  layout: RecordLayout<Name>,
  values: FieldValues<Name>,
): Uint8Array {
  let word = 0n;
  for (const [name, given] of Object.entries(values) as [Name, number | bigint | undefined][]) {
    if (given === undefined) continue;
    const field = layout.fields[name] as FieldSpec | undefined;
    if (field === undefined)
      fail('EINVAL', `${layout.title} has no field ${name}.`, { reason: 'unknown-field' });
    const value = toBig(given, layout, name);
    if (value < 0n || value > maskOf(field.width))
      fail('EINVAL', `${layout.title} field ${name} is ${field.width} bits wide: ${given} does not fit.`, {
        reason: 'out-of-range',
      });
    word |= value << BigInt(field.bit);
  }
  const bytes = new Uint8Array(layout.bytes);
  for (let i = 0; i < bytes.length; i++, word >>= 8n) bytes[i] = Number(word & 0xffn);
  return bytes;
}

/** Every field of the record in `bytes` (exactly the layout's size). */
export function decodeRecord<Name extends string>(
  layout: RecordLayout<Name>,
  bytes: Uint8Array,
): Record<Name, bigint> {
  const word = wordOf(layout, bytes);
  const out = {} as Record<Name, bigint>;
  for (const [name, field] of Object.entries<FieldSpec>(layout.fields))
    out[name as Name] = (word >> BigInt(field.bit)) & maskOf(field.width);
  return out;
}

/** The record as an event or the API shows it, fields in the order of their bits. */
export function recordView(layout: RecordLayout, bytes: Uint8Array): RecordView {
  const word = wordOf(layout, bytes);
  const fields = Object.entries<FieldSpec>(layout.fields)
    .sort(([, a], [, b]) => a.bit - b.bit)
    .map(([name, field]): FieldView => {
      const raw = (word >> BigInt(field.bit)) & maskOf(field.width);
      const meaning = field.values?.[Number(raw)];
      return {
        name,
        label: field.label,
        bit: field.bit,
        width: field.width,
        value: raw <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(raw) : `0x${raw.toString(16)}`,
        ...(meaning === undefined ? {} : { meaning }),
      };
    });
  const { id, title, source } = layout;
  return { layout: id, title, source, bytes: layout.bytes, hex: toHex(bytes), fields };
}

/** Bytes in memory order as lowercase hex, two digits each, no separators. */
export function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** The bytes of `toHex` output; refuses anything else. */
export function fromHex(hex: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex))
    fail('EINVAL', `"${hex.slice(0, 40)}" is not hex bytes (two digits a byte, no separators).`, {
      reason: 'not-hex',
    });
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

function wordOf(layout: RecordLayout, bytes: Uint8Array): bigint {
  if (bytes.length !== layout.bytes)
    fail('EINVAL', `${layout.title} is ${layout.bytes} bytes, not ${bytes.length}.`, { reason: 'size' });
  let word = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) word = (word << 8n) | BigInt(bytes[i]!);
  return word;
}

function maskOf(width: number): bigint {
  return (1n << BigInt(width)) - 1n;
}

function toBig(value: number | bigint, layout: RecordLayout, name: string): bigint {
  if (typeof value === 'bigint') return value;
  if (!Number.isSafeInteger(value))
    fail('EINVAL', `${layout.title} field ${name}: ${value} is not an exact integer (use a bigint).`, {
      reason: 'not-integer',
    });
  return BigInt(value);
}
