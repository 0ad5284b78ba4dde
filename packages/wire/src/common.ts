/** Shapes every route shares: ids, addresses, errors, paging. */
import Type, { type Static } from 'typebox';
import { HexAddressSchema, IdSchema, SizeSchema } from '@iommu-lab/emulator/schemas';

export { HexAddressSchema, IdSchema, SizeSchema };

/**
 * Every refusal: an HTTP 4xx whose body says what went wrong in a stable code (the kernel's errno name
 * where the emulator refused, e.g. EBUSY; EPROFILE when the lab's kernel profile has no such call) and a
 * sentence. A refused request changes nothing.
 */
export const ErrorSchema = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String({
      description: 'Stable, machine-readable: EINVAL, EBUSY, ENOENT, EPROFILE, EVALIDATION, …',
    }),
    message: Type.String({ description: 'What went wrong, in a sentence.' }),
    reason: Type.Optional(
      Type.String({ description: 'A narrower stable sub-code, e.g. "iopf-before-sva".' }),
    ),
    profile: Type.Optional(Type.String({ description: 'The kernel profile that refused the call.' })),
    path: Type.Optional(Type.String({ description: 'Where in the request (or config) the problem is.' })),
  },
  { $id: 'Error' },
);
export type ApiError = Static<typeof ErrorSchema>;

export const LabParams = Type.Object({ lab: IdSchema });

export const PageQuery = Type.Object({
  /** Events with a sequence number above this one. */
  after: Type.Optional(Type.Integer({ minimum: -1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
});

/** A 4 KiB-aligned range of a process or domain. */
export const RangeBody = Type.Object(
  { address: HexAddressSchema, size: SizeSchema },
  { additionalProperties: false },
);
export type Range = Static<typeof RangeBody>;

/** A loose object: a picture or metrics document whose full shape is the emulator's (SystemSnapshot, …). */
export const Document = Type.Object({}, { additionalProperties: true });

/**
 * The shapes of the loose documents (`system` of a lab, caches, queues, latency summaries): the emulator's
 * own types, re-exported so clients type them without depending on the emulator.
 */
export type {
  CacheSnapshot,
  HandlerInfo,
  HistogramSummary,
  QueueSnapshot,
  SystemSnapshot,
  WalkStep,
} from '@iommu-lab/emulator';

/** Whether two key sets are the same: a wire schema's fields checked against the emulator's type at build time. */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export type Agree<T extends true> = T;
