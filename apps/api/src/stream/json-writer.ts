/**
 * JSON text written straight into a buffer, byte for byte what JSON.stringify writes. The tuples rows of a
 * lab running flat out are a million a second, about 11 values each, and on Node 20 JSON.stringify costs
 * some 20 ns a value (a row array built first, then its text, then that text copied into a Buffer): here
 * the values an event mostly holds (integers, plain ASCII strings, null, booleans, empty lists) are written
 * by a few byte stores, and anything else (other numbers, strings JSON escapes or UTF-8 writes in several
 * bytes, lists, records) goes through JSON.stringify as before.
 */

const QUOTE = 0x22;
const COMMA = 0x2c;
/** Bytes every value may take without a look at the room left (the longest safe integer takes 17). */
const SMALL = 24;
/** Words written as bytes: a native call to write four bytes costs more than the rest of a row. */
const NULL = [0x6e, 0x75, 0x6c, 0x6c];
const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const EMPTY_LIST = [0x5b, 0x5d];

export class JsonWriter {
  /** The text so far is bytes[0, at). The buffer is replaced by a larger one when it fills. */
  bytes: Buffer;
  at = 0;

  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }

  /** Starts a row `[layout`: its values follow, each after a comma (value). */
  openRow(layout: number): void {
    this.room(SMALL);
    this.bytes[this.at++] = 0x5b; // [
    this.integer(layout);
  }

  /** Ends a row with `],`: in a chunk every row is followed by a comma. */
  closeRow(): void {
    this.room(SMALL);
    this.bytes[this.at++] = 0x5d; // ]
    this.bytes[this.at++] = COMMA;
  }

  /** `,value`, as JSON.stringify writes the value inside an array (undefined and functions as null). */
  value(value: unknown): void {
    this.room(SMALL);
    this.bytes[this.at++] = COMMA;
    if (typeof value === 'number') {
      // -0 is a safe integer too, written 0 as JSON does
      if (Number.isSafeInteger(value)) this.integer(value);
      else this.text(Number.isFinite(value) ? String(value) : 'null');
    } else if (typeof value === 'string') this.string(value);
    else if (value === null) this.word(NULL);
    else if (value === true) this.word(TRUE);
    else if (value === false) this.word(FALSE);
    else if (Array.isArray(value) && value.length === 0) this.word(EMPTY_LIST);
    else this.text(JSON.stringify(value) ?? 'null');
  }

  /** A safe integer's digits (% 10, and what is left divided by 10, are exact below 2^53). */
  private integer(value: number): void {
    const { bytes } = this; // locals: each this.at++ would be a load and a store of the field
    let n = value;
    if (n < 0) {
      bytes[this.at++] = 0x2d; // -
      n = -n;
    }
    let digits = 1;
    for (let rest = n; rest >= 10; digits++) rest = (rest - (rest % 10)) / 10;
    let end = (this.at += digits);
    do {
      const digit = n % 10;
      bytes[--end] = 0x30 + digit;
      n = (n - digit) / 10;
    } while (n > 0);
  }

  private word(word: readonly number[]): void {
    for (let i = 0; i < word.length; i++) this.bytes[this.at++] = word[i]!;
  }

  /** A string: copied as it is when it is printable ASCII without `"` or `\`, else as JSON.stringify writes it. */
  private string(value: string): void {
    this.room(value.length + 2);
    const { bytes } = this;
    let at = this.at;
    bytes[at++] = QUOTE;
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (code < 0x20 || code > 0x7e || code === QUOTE || code === 0x5c) {
        this.text(JSON.stringify(value));
        return;
      }
      bytes[at++] = code;
    }
    bytes[at++] = QUOTE;
    this.at = at;
  }

  /** Text as UTF-8. */
  private text(text: string): void {
    this.room(3 * text.length); // UTF-8 takes at most 3 bytes per UTF-16 unit
    this.at += this.bytes.write(text, this.at);
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.bytes.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(2 * this.bytes.length, this.at + bytes));
    this.bytes.copy(bigger, 0, 0, this.at);
    this.bytes = bigger;
  }
}
