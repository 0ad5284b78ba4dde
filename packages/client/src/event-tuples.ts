/**
 * Decoding of the stream's `tuples` batches (format: EventTuplesMessageSchema in @iommu-lab/wire): each
 * event becomes the same object the `json` encoding gives, same keys in the same order. Each layout gets a
 * function compiled once that builds its event as one object literal (`{"kind": "dma.page",
 * "transaction": row[1], …}`), so every event of a layout comes out with one fixed shape, made in one step,
 * instead of key by key. Where the page forbids compiling code (a Content-Security-Policy without
 * 'unsafe-eval'), the layout is built key by key instead. A message the format does not allow is a
 * ProtocolError (EPROTO): these batches come from the server, and one that is wrong is a bug to report,
 * not events to guess at.
 */
import { ProtocolError } from './errors';
import type { EventLayout, EventTuplesMessage, WireEvent } from './types';

type Build = (row: readonly unknown[]) => WireEvent;

interface Decoder {
  build: Build;
  /** Entries of a row: the layout index and one value per key but `kind`. */
  width: number;
}

/** Layouts kept at most (a server sends one or two per kind); past it the table starts again. */
const MAX_LAYOUTS = 512;

/** Decodes one stream's batches, keeping each layout's compiled builder between batches. */
export class EventTupleDecoder {
  private readonly decoders = new Map<string, Decoder>();

  decode(message: EventTuplesMessage): WireEvent[] {
    if (!Array.isArray(message.layouts) || !Array.isArray(message.events))
      throw new ProtocolError('an event-tuples message has no layouts or no events list');
    const decoders = message.layouts.map((layout) => this.decoderOf(layout));
    const rows = message.events;
    const events = new Array<WireEvent>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const decoder = Array.isArray(row) ? decoders[row[0] as number] : undefined;
      if (decoder === undefined || row.length !== decoder.width)
        throw new ProtocolError(
          `event ${i} of an event-tuples batch is not [layout, ...values] of one of its ${decoders.length} layouts`,
        );
      events[i] = decoder.build(row);
    }
    return events;
  }

  private decoderOf(layout: EventLayout): Decoder {
    const { kind, keys } = (layout ?? {}) as Partial<EventLayout>;
    if (typeof kind !== 'string' || !Array.isArray(keys))
      throw new ProtocolError('an event-tuples layout is not {kind, keys}');
    const signature = JSON.stringify([kind, ...keys]);
    let decoder = this.decoders.get(signature);
    if (decoder) return decoder;
    checkKeys(keys);
    if (this.decoders.size >= MAX_LAYOUTS) this.decoders.clear();
    decoder = { build: compileBuild(kind, keys), width: keys.length };
    this.decoders.set(signature, decoder);
    return decoder;
  }
}

/**
 * Keys an event can have: strings, each once, `kind` once (its value is the layout's). `__proto__` is
 * refused: an object literal would take it as the prototype where JSON.parse makes it a key.
 */
function checkKeys(keys: readonly unknown[]): void {
  const seen = new Set<unknown>();
  for (const key of keys) {
    if (typeof key !== 'string' || key === '__proto__')
      throw new ProtocolError(
        `an event-tuples layout has the key ${JSON.stringify(key)}, which no event has`,
      );
    if (seen.has(key)) throw new ProtocolError(`an event-tuples layout has the key "${key}" twice`);
    seen.add(key);
  }
  if (!seen.has('kind')) throw new ProtocolError('an event-tuples layout has no "kind" key');
}

/** Values are read at row[1], row[2], … in key order, `kind` taking none. */
function compileBuild(kind: string, keys: readonly string[]): Build {
  let at = 1;
  const fields = keys.map(
    (key) => `${JSON.stringify(key)}: ${key === 'kind' ? JSON.stringify(kind) : `row[${at++}]`}`,
  );
  try {
    return new Function('row', `return { ${fields.join(', ')} };`) as Build;
  } catch {
    return (row) => buildKeyByKey(kind, keys, row);
  }
}

function buildKeyByKey(kind: string, keys: readonly string[], row: readonly unknown[]): WireEvent {
  const event: Record<string, unknown> = {};
  for (let k = 0, at = 1; k < keys.length; k++) {
    const key = keys[k]!;
    event[key] = key === 'kind' ? kind : row[at++];
  }
  return event as WireEvent;
}
