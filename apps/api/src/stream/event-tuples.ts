/**
 * The stream's `tuples` encoding (format: EventTuplesMessageSchema in packages/wire/src/events.ts): a batch
 * is its events' layouts (kind and keys, once each) and one array of values per event. Writing values
 * without their keys is what makes it cheaper than JSON.stringify of the events themselves, so each shape of
 * event gets a function compiled once that reads its fields by name (`[layout, event["transaction"], …]`):
 * the reads stay monomorphic, where a loop over a list of keys would read every field through one
 * megamorphic lookup and be no faster than JSON.stringify. Keys are written into the code as JSON string
 * literals, which are valid JavaScript strings whatever the key holds.
 *
 * A batch can also be written a row at a time (beginBatch, then writeRow for each event), straight into a
 * JsonWriter as the same text JSON.stringify of its row would be (json-writer.ts), as the lab's history does
 * (labs/tuple-chunk.ts); decodeRows turns rows back into events, for the server's own rare reads.
 */
import type { EmulatorEvent } from '@iommu-lab/emulator';
import type { EventLayout, EventTuplesMessage } from '@iommu-lab/wire';
import type { JsonWriter } from './json-writer';

type RowOf = (event: EmulatorEvent, layout: number) => unknown[];
type WriteRow = (event: EmulatorEvent, layout: number, out: JsonWriter) => void;

interface Shape {
  layout: EventLayout;
  row: RowOf;
  write: WriteRow;
  /** The batch that last gave this shape a layout index, and that index. */
  batch: number;
  index: number;
}

/**
 * Shapes kept at most: the emulator's events have one or two per kind; past this many (events built with
 * keys that vary), the table starts again rather than grow without bound.
 */
const MAX_SHAPES = 512;

/**
 * Encodes batches of one lab's events; keeps each shape's compiled row function between batches. One batch
 * at a time: a shape remembers its index in the current batch only.
 */
export class EventTupleEncoder {
  private readonly shapesByKind = new Map<string, Shape[]>();
  private shapes = 0;
  private batches = 0;

  /** The batch's message, as JSON text. */
  encode(events: readonly EmulatorEvent[], dropped: number): string {
    const layouts = this.beginBatch();
    const rows = new Array<unknown[]>(events.length);
    for (let i = 0; i < events.length; i++) rows[i] = this.row(events[i]!, layouts);
    const message: EventTuplesMessage = { type: 'event-tuples', layouts, events: rows, dropped };
    return JSON.stringify(message);
  }

  /** Starts a batch; its layouts, filled as row() meets new shapes. */
  beginBatch(): EventLayout[] {
    this.batches++;
    return [];
  }

  /** The event's row in the current batch; its layout is added to `layouts` the first time the batch uses it. */
  row(event: EmulatorEvent, layouts: EventLayout[]): unknown[] {
    const shape = this.shapeIn(event, layouts);
    return shape.row(event, shape.index);
  }

  /** The event's row in the current batch as JSON text, followed by a comma, at the end of `out`. */
  writeRow(event: EmulatorEvent, layouts: EventLayout[], out: JsonWriter): void {
    const shape = this.shapeIn(event, layouts);
    shape.write(event, shape.index, out);
  }

  /** The event's shape, its layout added to `layouts` the first time the current batch uses it. */
  private shapeIn(event: EmulatorEvent, layouts: EventLayout[]): Shape {
    const shape = this.shapeOf(event);
    if (shape.batch !== this.batches) {
      shape.batch = this.batches;
      shape.index = layouts.push(shape.layout) - 1;
    }
    return shape;
  }

  private shapeOf(event: EmulatorEvent): Shape {
    let shapes = this.shapesByKind.get(event.kind);
    if (shapes) for (const shape of shapes) if (hasKeys(event, shape.layout.keys)) return shape;
    if (this.shapes >= MAX_SHAPES) {
      this.shapesByKind.clear();
      this.shapes = 0;
      shapes = undefined;
    }
    const keys = Object.keys(event);
    const shape: Shape = {
      layout: { kind: event.kind, keys },
      row: compileRow(keys),
      write: compileWrite(keys),
      batch: 0,
      index: 0,
    };
    if (shapes) shapes.push(shape);
    else this.shapesByKind.set(event.kind, [shape]);
    this.shapes++;
    return shape;
  }
}

/** Whether the event's own keys are exactly `keys`, in that order (a for-in walk, nothing allocated). */
function hasKeys(event: EmulatorEvent, keys: readonly string[]): boolean {
  let at = 0;
  for (const key in event) if (keys[at++] !== key) return false;
  return at === keys.length;
}

function compileRow(keys: readonly string[]): RowOf {
  const reads = keys.filter((key) => key !== 'kind').map((key) => `event[${JSON.stringify(key)}]`);
  return new Function('event', 'layout', `return [layout, ${reads.join(', ')}];`) as RowOf;
}

/** The same reads as compileRow's, each value written as it is read. */
function compileWrite(keys: readonly string[]): WriteRow {
  const writes = keys
    .filter((key) => key !== 'kind')
    .map((key) => `out.value(event[${JSON.stringify(key)}]);`);
  return new Function(
    'event',
    'layout',
    'out',
    `out.openRow(layout); ${writes.join(' ')} out.closeRow();`,
  ) as WriteRow;
}

/**
 * Rows back into events: each the object the event was, keys in its layout's order (values as JSON gave
 * them; the emulator's events are plain JSON values). For the server's own reads of what it encoded (the
 * history's pages), so the rows are trusted; clients decode with @iommu-lab/client's EventTupleDecoder.
 */
export function decodeRows(layouts: readonly EventLayout[], rows: readonly unknown[][]): EmulatorEvent[] {
  const events = new Array<EmulatorEvent>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const { kind, keys } = layouts[row[0] as number]!;
    const event: Record<string, unknown> = {};
    for (let k = 0, at = 1; k < keys.length; k++) {
      const key = keys[k]!;
      event[key] = key === 'kind' ? kind : row[at++];
    }
    events[i] = event as unknown as EmulatorEvent;
  }
  return events;
}
