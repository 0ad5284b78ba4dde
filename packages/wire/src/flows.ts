/**
 * Fault flows of a live lab: the anatomy record the emulator writes when a fault's life ends (its hops, each
 * with when it started and what it cost, summing to the end-to-end latency), the list of a lab's ended
 * flows, and one flow with its events, its causes and its effects.
 *
 * The names are the emulator's (flow/fault-flow.ts, through its schemas entry); the type check below
 * fails the build if the record and this schema ever differ.
 */
import Type, { type Static } from 'typebox';
import type { FlowRecord } from '@iommu-lab/emulator';
import {
  CategorySchema,
  FLOW_MECHANISMS,
  FLOW_OUTCOMES,
  HOPS,
  HexAddressSchema,
  IdSchema,
  patterned,
} from '@iommu-lab/emulator/schemas';
import type { Agree, Same } from './common';
import { EventSchema } from './events';
import { CarriedRecordSchema } from './records';

/** In the order they can happen (the order of a record's `hops`). */
export const HOP_NAMES = HOPS;
export { FLOW_MECHANISMS, FLOW_OUTCOMES };

const FlowId = Type.Integer({ minimum: 1 });
const Nullable = <T extends Type.TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const FlowMechanismSchema = Type.Enum([...FLOW_MECHANISMS]);
export const FlowOutcomeSchema = Type.Enum([...FLOW_OUTCOMES]);

/** One ended fault flow (the `flow.ended` event's record, with the event's sequence number). */
export const FlowRecordSchema = Type.Object({
  flow: FlowId,
  /** Sequence number of its flow.ended event: what `after` pages by. */
  seq: Type.Integer(),
  mechanism: FlowMechanismSchema,
  transaction: Nullable(Type.Integer()),
  iommu: Type.String(),
  device: Type.String(),
  pasid: Nullable(Type.Integer()),
  address: HexAddressSchema,
  /** r, w, x, p as the request carried them. */
  access: Type.String(),
  stage: Nullable(Type.Enum([1, 2])),
  fault: Type.String(),
  category: Nullable(CategorySchema),
  handler: Nullable(Type.String()),
  group: Nullable(Type.Integer()),
  /** SUCCESS / INVALID / FAILURE; RETRY / ABORT for a stall; the reason code when unrecoverable; the mm outcome when self-faulting. */
  code: Nullable(Type.String()),
  /** An unrecoverable fault's code as the hardware recorded it, in hex (VT-d fault reason, SMMUv3 event ID). */
  reason: Nullable(Type.String()),
  cause: Nullable(Type.String()),
  outcome: FlowOutcomeSchema,
  startNs: Type.Number(),
  endNs: Type.Number(),
  latencyNs: Type.Number(),
  /** The hops that applied, in order; their `ns` sum to latencyNs. */
  hops: Type.Array(
    Type.Object({ hop: Type.Enum([...HOP_NAMES]), startNs: Type.Number(), ns: Type.Number() }),
  ),
  /** What the handler hop was spent on. */
  handlerCosts: Nullable(
    Type.Object({
      fixedNs: Type.Number(),
      mmFaultNs: Type.Number(),
      mapNs: Type.Number(),
      evictionNs: Type.Number(),
      guestNs: Type.Number(),
    }),
  ),
  /** Flows this one followed from (the flows its transaction refaulted after, the request its overflow retried). */
  causes: Type.Array(FlowId),
  /** The earlier flow that had resolved this page before an eviction, an munmap or a reclaim took it away. */
  replaces: Nullable(Type.Object({ flow: FlowId, because: Type.Enum(['evicted', 'unmapped', 'reclaimed']) })),
  /**
   * What each layer wrote for it, byte for byte, in the order written: the PCIe Page Request, the IOMMU's
   * queue entry, struct iommu_fault, the response structs and commands, the PRG Response (records.ts).
   */
  records: Type.Array(
    Type.Object({
      atNs: Type.Number(),
      layer: Type.Enum(['device', 'iommu', 'kernel', 'user']),
      record: CarriedRecordSchema,
    }),
  ),
});
export type FlowView = Static<typeof FlowRecordSchema>;

export const FlowParams = Type.Object({ lab: IdSchema, flow: FlowId });

/** The lab's ended flows, oldest first, paged by the sequence number of their flow.ended events. */
export const FlowQuery = Type.Object(
  {
    /** Flows whose flow.ended event came after this sequence number. */
    after: Type.Optional(Type.Integer({ minimum: -1 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    device: Type.Optional(IdSchema),
    pasid: Type.Optional(Type.Integer({ minimum: 0 })),
    mechanism: Type.Optional(FlowMechanismSchema),
    outcome: Type.Optional(FlowOutcomeSchema),
    code: Type.Optional(
      Type.String(
        patterned(
          '^[A-Za-z0-9_.-]{1,64}$',
          'a code is letters, digits, "_", "." or "-", e.g. SUCCESS or F_TRANSLATION',
        ),
      ),
    ),
    stage: Type.Optional(Type.Enum([1, 2])),
    category: Type.Optional(CategorySchema),
    /** Only flows that took at least this long, end to end. */
    minLatencyNs: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Instead of a page: the N slowest matching flows, slowest first (`next` is then -1). */
    slowest: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
export type FlowQueryType = Static<typeof FlowQuery>;

export const FlowPage = Type.Object({
  flows: Type.Array(FlowRecordSchema),
  /** The `after` of the next page (the last flow's seq); -1 when the page is empty. */
  next: Type.Integer(),
  /** Flows that ended before the oldest one kept were forgotten (the lab keeps its most recent ones). */
  oldest: Type.Integer(),
});

/** One flow: its record, its events in order, the flows it followed from and the flows that followed from it. */
export const FlowDetail = Type.Object({
  flow: FlowRecordSchema,
  /**
   * Events that name it (`flow`, `flows`, or `by` for an eviction it caused) and the dma.* events of its
   * transaction between its start and its end, in order, from the lab's event history.
   */
  events: Type.Array(EventSchema),
  /** Events before this sequence number were dropped from the lab's history; some of the flow's may be among them. */
  oldest: Type.Integer(),
  /** The records of its causes still kept. */
  causes: Type.Array(FlowRecordSchema),
  /** Flows kept whose causes include it. */
  effects: Type.Array(FlowRecordSchema),
  /** A later flow that brought back the page it had resolved, after the page went away. */
  replacedBy: Nullable(FlowRecordSchema),
});
export type FlowDetailView = Static<typeof FlowDetail>;

// The emulator's record and this schema have the same fields: a mismatch is a type error here.
export type FlowNamesAgree = [Agree<Same<keyof FlowRecord, Exclude<keyof FlowView, 'seq'>>>];
