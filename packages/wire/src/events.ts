/** Events (as the emulator emits them) and the messages of a lab's websocket stream. */
import Type, { type Static } from 'typebox';
import { CategorySchema, EVENT_KINDS, IdSchema, ResponseCodeSchema } from '@iommu-lab/emulator/schemas';
import { PageQuery } from './common';

/** Every event has a sequence number, a simulated time and a kind; the rest depends on the kind. */
export const EventSchema = Type.Object(
  { seq: Type.Integer(), timeNs: Type.Number(), kind: Type.Enum([...EVENT_KINDS]) },
  { additionalProperties: true, $id: 'Event' },
);
export type WireEvent = Static<typeof EventSchema> & Record<string, unknown>;

/**
 * Which events a client wants: every given list must match (an event without the field does not match a
 * list for it). `null` in `pasids` means requests without a PASID. Ended fault flows are `flow.ended`
 * events in the same batches: `flows: true` keeps only them (one per flow), `flows: false` leaves them out;
 * `flowIds` keeps the events that name one of those flows (in `flow`, `flows`, or `by`), its record included.
 */
export const StreamFilterSchema = Type.Object(
  {
    devices: Type.Optional(Type.Array(IdSchema, { maxItems: 256 })),
    pasids: Type.Optional(
      Type.Array(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]), { maxItems: 256 }),
    ),
    kinds: Type.Optional(Type.Array(Type.Enum([...EVENT_KINDS]), { maxItems: 256 })),
    categories: Type.Optional(Type.Array(CategorySchema, { maxItems: 2 })),
    stages: Type.Optional(Type.Array(Type.Enum([1, 2]), { maxItems: 2 })),
    flows: Type.Optional(Type.Boolean()),
    flowIds: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 256 })),
  },
  { additionalProperties: false },
);
export type StreamFilter = Static<typeof StreamFilterSchema>;

/** History query: paging plus the stream's filters, lists given comma-separated. */
export const EventQuery = Type.Object(
  {
    ...PageQuery.properties,
    kinds: Type.Optional(
      Type.String({ description: 'Comma-separated kinds, e.g. "fault.group,fault.response".' }),
    ),
    device: Type.Optional(IdSchema),
    pasid: Type.Optional(Type.Integer({ minimum: 0 })),
    category: Type.Optional(CategorySchema),
    stage: Type.Optional(Type.Enum([1, 2])),
  },
  { additionalProperties: false },
);

export const EventPage = Type.Object({
  events: Type.Array(EventSchema),
  /** Sequence number to pass as `after` for the next page; -1 when the page is empty. */
  next: Type.Integer(),
  /** Events older than this were dropped from the lab's history (it keeps the most recent ones). */
  oldest: Type.Integer(),
});

/**
 * How a client wants its event batches: `json` (the default) as `{type:'events', events:[{…}, …]}`, each
 * event an object; `tuples` as `{type:'event-tuples', …}` (EventTuplesMessageSchema): each event an array
 * of its values under a layout of keys given once per batch, so neither end writes or parses an event's keys.
 */
export const StreamEncodingSchema = Type.Enum(['json', 'tuples']);
export type StreamEncoding = Static<typeof StreamEncodingSchema>;

/**
 * One shape of event in a `tuples` batch: its kind, and every key of the event in the event's own order,
 * `kind` among them. Events of one kind share a layout unless their keys differ (in order or in number).
 */
export const EventLayoutSchema = Type.Object(
  { kind: Type.Enum([...EVENT_KINDS]), keys: Type.Array(Type.String(), { minItems: 1 }) },
  { additionalProperties: false },
);
export type EventLayout = Static<typeof EventLayoutSchema>;

/**
 * A batch in the `tuples` encoding. Each entry of `events` is `[layout, ...values]`: `layout` indexes
 * `layouts`, and the values are the event's, in the layout's key order, `kind` left out (the layout has
 * it). Values are JSON values as in the `json` encoding (addresses hex strings, nested lists and records
 * as they are). E.g. `{kind:'dma.page', transaction:1, device:'vf0', …, seq:6, timeNs:0}` travels as
 * `layouts: [{kind:'dma.page', keys:['kind','transaction','device',…,'seq','timeNs']}]` and `[0, 1, 'vf0', …, 6, 0]`.
 * Decoding gives the same object (same keys, same order) the `json` encoding gives. Layouts are per batch,
 * so every batch decodes alone (a batch dropped for a slow client takes nothing the next one needs).
 */
export const EventTuplesMessageSchema = Type.Object(
  {
    type: Type.Literal('event-tuples'),
    layouts: Type.Array(EventLayoutSchema),
    events: Type.Array(Type.Array(Type.Unknown(), { minItems: 1 })),
    dropped: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type EventTuplesMessage = Static<typeof EventTuplesMessageSchema>;

/** Client → server. A subscription replaces the previous one whole: filter and encoding (absent: none, `json`). */
export const ClientMessageSchema = Type.Union([
  Type.Object(
    {
      type: Type.Literal('subscribe'),
      filter: Type.Optional(StreamFilterSchema),
      encoding: Type.Optional(StreamEncodingSchema),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal('respond'), cookie: Type.Integer({ minimum: 1 }), code: ResponseCodeSchema },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('ping') }, { additionalProperties: false }),
]);
export type ClientMessage = Static<typeof ClientMessageSchema>;

/** Server → client. */
export type ServerMessage =
  | {
      type: 'hello';
      lab: string;
      timeNs: number;
      /** The oldest and newest events in the lab's history (GET …/events pages them); -1 when empty. */
      seq: number;
      latest: number;
      filter: StreamFilter;
    }
  | { type: 'events'; events: WireEvent[]; dropped: number }
  /** The same batch for a client subscribed with `encoding: 'tuples'`. */
  | EventTuplesMessage
  | { type: 'dropped'; count: number; total: number }
  | { type: 'responded'; cookie: number; code: string }
  | { type: 'reset'; lab: string }
  /** The lab was deleted (by another tab or client); `closing` and the close follow. */
  | { type: 'lab.deleted'; lab: string }
  | { type: 'closing'; reason: string }
  | { type: 'pong' }
  /** A refused message; `cookie` when it was an answer to a pending group. */
  | { type: 'error'; code: string; message: string; cookie?: number };
