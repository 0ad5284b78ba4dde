/**
 * Each layout's encoder and reader, generated once from its table as straight-line code over the record's
 * 32-bit words. A live lab builds a record for every fault event it keeps, and a loop over the table with
 * a keyed read and a bit-by-bit split per field cost more than the event itself (1.5 µs for a page request
 * descriptor); written out per layout, the reads are monomorphic and the splits are constant shifts.
 * Field names go into the code as JSON string literals, which are valid JavaScript strings whatever they
 * hold; every number in it comes from a table `defineRecord` has checked.
 *
 * The generated encoder takes exact, in-range numbers only. Anything else (a bigint, a value that does not
 * fit, a field the layout does not have) makes it return null, and the caller takes the checked slow path,
 * which encodes bigints and refuses the rest with a reason.
 */

export interface FieldPlace {
  readonly name: string;
  readonly bit: number;
  readonly width: number;
}

export interface CompiledLayout {
  encode(values: object): Uint8Array | null;
  /** Each field's value: a number when exact, else `0x…` (from `wide`, for fields past 2^53). */
  read(bytes: Uint8Array): Record<string, number | string>;
}

/** A field's pieces, one per 32-bit word it spans: word, shift within it, bits, bits of the field before. */
interface Piece {
  word: number;
  shift: number;
  bits: number;
  before: number;
}

function piecesOf({ bit, width }: FieldPlace): Piece[] {
  const pieces: Piece[] = [];
  for (let done = 0; done < width;) {
    const at = bit + done;
    const shift = at % 32;
    const bits = Math.min(32 - shift, width - done);
    pieces.push({ word: Math.floor(at / 32), shift, bits, before: done });
    done += bits;
  }
  return pieces;
}

/**
 * `wide(bytes, bit, width)` reads a field too wide for a number (as hex); it is handed to the generated
 * reader rather than written into it.
 */
export function compileLayout(
  bytes: number,
  fields: readonly FieldPlace[],
  wide: (bytes: Uint8Array, bit: number, width: number) => string,
): CompiledLayout {
  const words = bytes / 4;
  const wordNames = Array.from({ length: words }, (_, word) => `w${word}`);

  const encodeLines = [`let ${wordNames.map((name) => `${name} = 0`).join(', ')}, x, known = 0;`];
  for (const field of fields) {
    const key = JSON.stringify(field.name);
    // Exact integers up to the field's width (2^53 caps what a number holds exactly).
    const max = field.width >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** field.width - 1;
    encodeLines.push(`x = values[${key}];`, `if (x !== undefined) {`, `  known++;`);
    encodeLines.push(`  if (typeof x !== 'number' || !(x >= 0 && x <= ${max}) || x % 1 !== 0) return null;`);
    const pieces = piecesOf(field);
    for (const [index, piece] of pieces.entries()) {
      const last = index === pieces.length - 1;
      const scaled = piece.before === 0 ? 'x' : `Math.floor(x / ${2 ** piece.before})`;
      const part = last ? scaled : `(${scaled} % ${2 ** piece.bits})`;
      encodeLines.push(`  w${piece.word} |= ${part} << ${piece.shift};`);
    }
    encodeLines.push(`}`);
  }
  // A key the layout does not have: counted, so the slow path can name it.
  encodeLines.push(`let own = 0;`, `for (const key in values) own++;`, `if (own !== known) return null;`);
  encodeLines.push(`const out = new Uint8Array(${bytes});`);
  for (let word = 0; word < words; word++)
    for (let byte = 0; byte < 4; byte++)
      encodeLines.push(`out[${4 * word + byte}] = (w${word} >>> ${8 * byte}) & 255;`);
  encodeLines.push(`return out;`);

  const readLines = wordNames.map(
    (name, word) =>
      `const ${name} = (b[${4 * word}] | (b[${4 * word + 1}] << 8) | (b[${4 * word + 2}] << 16) | (b[${4 * word + 3}] << 24)) >>> 0;`,
  );
  const entries = fields.map((field) => {
    const key = JSON.stringify(field.name);
    if (field.width > 53) {
      // A field of whole 32-bit words (a u64 member, EVTQ_2_ADDR) is printed from its words, highest
      // first; any other wide field takes the slow `wide`.
      if (field.bit % 32 === 0 && field.width % 32 === 0) {
        const words = piecesOf(field).map((piece) => `w${piece.word}`);
        return `${key}: wordsHex(${words.reverse().join(', ')})`;
      }
      return `${key}: wide(b, ${field.bit}, ${field.width})`;
    }
    const parts = piecesOf(field).map((piece) => {
      const bits =
        piece.bits === 32
          ? `w${piece.word}`
          : `((w${piece.word} >>> ${piece.shift}) & ${2 ** piece.bits - 1})`;
      return piece.before === 0 ? bits : `${bits} * ${2 ** piece.before}`;
    });
    return `${key}: ${parts.join(' + ')}`;
  });
  readLines.push(`return { ${entries.join(', ')} };`);

  return {
    encode: new Function('values', encodeLines.join('\n')) as CompiledLayout['encode'],
    read: new Function('wide', 'wordsHex', `return (b) => {\n${readLines.join('\n')}\n};`)(
      wide,
      wordsHex,
    ) as CompiledLayout['read'],
  };
}

/** `0x…` of unsigned 32-bit words given highest first, without leading zeros. */
function wordsHex(...words: number[]): string {
  let hex = '';
  for (const word of words)
    hex = hex === '' ? (word === 0 ? '' : word.toString(16)) : hex + word.toString(16).padStart(8, '0');
  return `0x${hex === '' ? '0' : hex}`;
}
