/**
 * A workload: one or more streams of DMA per device, each walking a working set with an access pattern
 * (sequential, strided, uniform random, hot spot), a read / write mix, a number of transactions in
 * flight, think time and bursts. JSON, versioned with the system config; experiments store it beside it.
 */
import Type, { type Static } from 'typebox';
import { HexAddressSchema, IdSchema, SizeSchema } from '../config/system-config';

export const PATTERNS = ['sequential', 'strided', 'random', 'hotspot'] as const;

export const StreamSpecSchema = Type.Object(
  {
    device: IdSchema,
    pasid: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 20 - 1 })),
    pattern: Type.Enum([...PATTERNS]),
    /** First address of the working set. */
    base: HexAddressSchema,
    /** Bytes of the working set. */
    workingSet: SizeSchema,
    /** Bytes each transaction moves (default 4096). */
    accessSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 2 ** 24 })),
    /** strided: bytes between consecutive transactions (default 2 MiB + 4 KiB, so each lands in a new table). */
    stride: Type.Optional(SizeSchema),
    /** hotspot: the hot part of the working set and the share of accesses that go to it. */
    hotFraction: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    hotProbability: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    /** Share of reads; the rest are writes (default 1). */
    readFraction: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    privileged: Type.Optional(Type.Boolean()),
    /** Transactions the stream issues in all. */
    count: Type.Integer({ minimum: 1, maximum: 100_000_000 }),
    /** Transactions in flight at once (a closed loop; default 1). */
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 4096 })),
    /** Pause between a completion and the next submission, in simulated ns (default 0). */
    thinkTimeNs: Type.Optional(Type.Number({ minimum: 0 })),
    /** After `size` transactions, pause `gapNs` before the next burst. */
    burst: Type.Optional(
      Type.Object(
        { size: Type.Integer({ minimum: 1 }), gapNs: Type.Number({ minimum: 0 }) },
        { additionalProperties: false },
      ),
    ),
    /** When the stream starts, in simulated ns from the start of the run. */
    startNs: Type.Optional(Type.Number({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export const WorkloadSpecSchema = Type.Object(
  { streams: Type.Array(StreamSpecSchema, { minItems: 1, maxItems: 256 }) },
  { additionalProperties: false },
);

export type StreamSpec = Static<typeof StreamSpecSchema>;
export type WorkloadSpec = Static<typeof WorkloadSpecSchema>;
