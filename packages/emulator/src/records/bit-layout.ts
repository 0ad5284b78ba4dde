/**
 * Byte-exact records: a hardware descriptor, a PCIe message or a kernel struct, described once as a table
 * of bit fields and encoded and decoded from that table alone. Every record here is little-endian (the
 * VT-d and SMMUv3 queues are arrays of little-endian 64-bit words, and the Linux and iommufd structs are
 * laid out for little-endian x86-64 and arm64), so a field is `width` bits from bit `bit` of the record's
 * bytes read as one little-endian number: bit 67 is bit 3 of the second 64-bit word, as a GENMASK_ULL(11, 3)
 * on qw1 is. The same table is what a person sees: `describeLayout` serves each field's place, width and
 * enum names (GET /records/layouts), from which the dashboard draws a carried record's bytes labelled.
 *
 * Records are built only where someone reads them (an event with a listener, an API answer), but a live
 * lab listens to every event, so each layout gets an encoder and a reader generated from its table
 * (compile-layout.ts); a bigint value, or a value that will be refused, takes the checked way here. A full
 * decode to bigints is for tests and tools.
 */
import { fail } from '../errors';
import { type CompiledLayout, type FieldPlace, compileLayout } from './compile-layout';

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

/**
 * A record as an event carries it: which layout, the bytes in memory order as hex, and each field's value
 * by name: a number for a field up to 53 bits wide, `0x…` for a wider one (the type goes by the field,
 * not by the value, so a reader knows it from the layout). Where each field sits is `describeLayout`'s.
 */
export interface CarriedRecord {
  readonly layout: string;
  readonly hex: string;
  readonly fields: Readonly<Record<string, number | string>>;
}

/** A layout as the API serves it once, for drawing the records events carry. */
export interface LayoutDescription {
  readonly id: string;
  readonly title: string;
  readonly bytes: number;
  readonly source: string;
  readonly fields: {
    readonly name: string;
    readonly label: string;
    readonly bit: number;
    readonly width: number;
    /** Enum value names by value, as JSON keys them. */
    readonly values?: Readonly<Record<string, string>>;
  }[];
}

/**
 * A layout, checked once when its module loads: every field inside the record, none overlapping another
 * (a mistake in a table is a bug of the lab, so it throws at once rather than encode wrong bytes).
 */
export function defineRecord<Name extends string>(layout: RecordLayout<Name>): RecordLayout<Name> {
  const size = layout.bytes * 8;
  if (!Number.isInteger(layout.bytes) || layout.bytes % 4 !== 0)
    throw new Error(`${layout.id}: ${layout.bytes} bytes is not a whole number of 32-bit words`);
  let used = 0n;
  for (const [name, field] of Object.entries<FieldSpec>(layout.fields)) {
    const { bit, width } = field;
    if (!Number.isInteger(bit) || !Number.isInteger(width) || bit < 0 || width < 1 || bit + width > size)
      throw new Error(`${layout.id}: field ${name} (bit ${bit}, ${width} wide) is outside ${size} bits`);
    const mask = maskOf(width) << BigInt(bit);
    if ((used & mask) !== 0n) throw new Error(`${layout.id}: field ${name} overlaps another field`);
    used |= mask;
  }
  COMPILED.set(layout, compile(layout));
  return layout;
}

const COMPILED = new WeakMap<RecordLayout, { places: readonly FieldPlace[]; codec: CompiledLayout }>();

function compile(layout: RecordLayout): { places: readonly FieldPlace[]; codec: CompiledLayout } {
  const places = Object.entries<FieldSpec>(layout.fields)
    .map(([name, { bit, width }]) => ({ name, bit, width }))
    .sort((a, b) => a.bit - b.bit);
  const wide = (bytes: Uint8Array, bit: number, width: number) =>
    `0x${((wordOf(layout, bytes) >> BigInt(bit)) & maskOf(width)).toString(16)}`;
  return { places, codec: compileLayout(layout.bytes, places, wide) };
}

function compiledOf(layout: RecordLayout): { places: readonly FieldPlace[]; codec: CompiledLayout } {
  const compiled = COMPILED.get(layout);
  if (compiled === undefined) throw new Error(`${layout.id} was not made by defineRecord`);
  return compiled;
}

/** The record's bytes with `values` in their fields; a field not given is 0. */
export function encodeRecord<Name extends string>(
  layout: RecordLayout<Name>,
  values: FieldValues<Name>,
): Uint8Array {
  const { places, codec } = compiledOf(layout);
  const fast = codec.encode(values);
  if (fast !== null) return fast;
  for (const name in values)
    if (!Object.hasOwn(layout.fields, name))
      fail('EINVAL', `${layout.title} has no field ${name}.`, { reason: 'unknown-field' });
  const bytes = new Uint8Array(layout.bytes);
  const words = new DataView(bytes.buffer);
  const given = values as Record<string, number | bigint | undefined>;
  for (const field of places) {
    const value = given[field.name];
    if (value === undefined || value === 0) continue;
    if (typeof value === 'bigint') writeBig(words, field, value, layout);
    else writeNumber(words, field, checked(value, field, layout));
  }
  return bytes;
}

/** `value` if it is an exact integer that fits the field. */
function checked(value: number, field: FieldPlace, layout: RecordLayout): number {
  if (!Number.isSafeInteger(value))
    fail('EINVAL', `${layout.title} field ${field.name}: ${value} is not an exact integer (use a bigint).`, {
      reason: 'not-integer',
    });
  if (value < 0 || (field.width < 53 && value >= 2 ** field.width))
    fail(
      'EINVAL',
      `${layout.title} field ${field.name} is ${field.width} bits wide: ${value} does not fit.`,
      {
        reason: 'out-of-range',
      },
    );
  return value;
}

/** ORs the field's bits into the 32-bit words it spans, low word first. */
function writeNumber(words: DataView, field: FieldPlace, value: number): void {
  let bit = field.bit;
  let left = field.width;
  let rest = value;
  while (left > 0 && rest > 0) {
    const word = bit >>> 5;
    const shift = bit & 31;
    const take = Math.min(32 - shift, left);
    const span = 2 ** take;
    const chunk = rest % span;
    words.setUint32(4 * word, (words.getUint32(4 * word, true) | (chunk * 2 ** shift)) >>> 0, true);
    rest = Math.floor(rest / span);
    bit += take;
    left -= take;
  }
}

function writeBig(words: DataView, field: FieldPlace, value: bigint, layout: RecordLayout): void {
  if (value < 0n || value > maskOf(field.width))
    fail(
      'EINVAL',
      `${layout.title} field ${field.name} is ${field.width} bits wide: ${value} does not fit.`,
      {
        reason: 'out-of-range',
      },
    );
  for (let done = 0; done < field.width; done += 32) {
    const width = Math.min(32, field.width - done);
    const chunk = Number((value >> BigInt(done)) & maskOf(width));
    writeNumber(words, { name: field.name, bit: field.bit + done, width }, chunk);
  }
}

/** The record as an event carries it; fields wider than 53 bits as hex, exact. */
export function carryRecord(layout: RecordLayout, bytes: Uint8Array): CarriedRecord {
  if (bytes.length !== layout.bytes)
    fail('EINVAL', `${layout.title} is ${layout.bytes} bytes, not ${bytes.length}.`, { reason: 'size' });
  return { layout: layout.id, hex: toHex(bytes), fields: compiledOf(layout).codec.read(bytes) };
}

/** The layout as the API serves it: every field with its name, in the order of its bits. */
export function describeLayout(layout: RecordLayout): LayoutDescription {
  const { id, title, bytes, source } = layout;
  const fields = Object.entries<FieldSpec>(layout.fields)
    .map(([name, { label, bit, width, values }]) => ({
      name,
      label,
      bit,
      width,
      ...(values === undefined ? {} : { values: Object.fromEntries(Object.entries(values)) }),
    }))
    .sort((a, b) => a.bit - b.bit);
  return { id, title, bytes, source, fields };
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

const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/**
 * A page's address as a field value: a number while it is exact (below 2^53, so the generated encoder
 * takes it), else a bigint.
 */
export function pageAddressValue(page: number, offset = 0): number | bigint {
  const address = page * 4096 + offset;
  return Number.isSafeInteger(address) ? address : (BigInt(page) << 12n) + BigInt(offset);
}

/** Bytes in memory order as lowercase hex, two digits each, no separators. */
export function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (let i = 0; i < bytes.length; i++) hex += HEX_BYTES[bytes[i]!];
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
