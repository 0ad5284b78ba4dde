/**
 * The stream's `tuples` encoding (format: EventTuplesMessageSchema in packages/wire/src/events.ts): a batch
 * is its events' layouts (kind and keys, once each) and one array of values per event. Writing values
 * without their keys is what makes it cheaper than JSON.stringify of the events themselves, so each shape of
 * event gets a function compiled once that reads its fields by name (`[layout, event["transaction"], …]`):
 * the reads stay monomorphic, where a loop over a list of keys would read every field through one
 * megamorphic lookup and be no faster than JSON.stringify. Keys are written into the code as JSON string
 * literals, which are valid JavaScript strings whatever the key holds.
 */
import type { EmulatorEvent } from '@iommu-lab/emulator';
import type { EventLayout, EventTuplesMessage } from '@iommu-lab/wire';

type RowOf = (event: EmulatorEvent, layout: number) => unknown[];

interface Shape {
  layout: EventLayout;
  row: RowOf;
  /** The batch that last gave this shape a layout index, and that index. */
  batch: number;
  index: number;
}

/**
 * Shapes kept at most: the emulator's events have one or two per kind; past this many (events built with
 * keys that vary), the table starts again rather than grow without bound.
 */
const MAX_SHAPES = 512;

/** Encodes batches of one lab's events; keeps each shape's compiled row function between batches. */
export class EventTupleEncoder {
  private readonly shapesByKind = new Map<string, Shape[]>();
  private shapes = 0;
  private batches = 0;

  /** The batch's message, as JSON text. */
  encode(events: readonly EmulatorEvent[], dropped: number): string {
    const batch = ++this.batches;
    const layouts: EventLayout[] = [];
    const rows = new Array<unknown[]>(events.length);
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const shape = this.shapeOf(event);
      if (shape.batch !== batch) {
        shape.batch = batch;
        shape.index = layouts.push(shape.layout) - 1;
      }
      rows[i] = shape.row(event, shape.index);
    }
    const message: EventTuplesMessage = { type: 'event-tuples', layouts, events: rows, dropped };
    return JSON.stringify(message);
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
    const shape: Shape = { layout: { kind: event.kind, keys }, row: compileRow(keys), batch: 0, index: 0 };
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
