/**
 * Fault injection: a raw PCIe Page Request from a device (POST /labs/:lab/devices/:device/page-requests)
 * and fail-nth, the nth allocation of a kind failing (PUT / GET / DELETE /labs/:lab/fail-nth). The emulator
 * checks the rest (a PASID within the device's width, PRI enabled, a Stop Marker being L=1 with R=W=0).
 */
import Type, { type Static } from 'typebox';
import { FAIL_NTH_KINDS, HexAddressSchema, MAX_FAIL_NTH } from '@iommu-lab/emulator/schemas';
import type { FailNthCounter, PageRequestSpec } from '@iommu-lab/emulator';
import { type Agree, Document, type Same } from './common';

const closed = { additionalProperties: false } as const;

export const PageRequestBody = Type.Object(
  {
    /** The PASID of the request's PASID prefix; omitted or null: a request without one. */
    pasid: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 2 ** 20 - 1 }), Type.Null()])),
    prgIndex: Type.Integer({ minimum: 0, maximum: 511, description: 'PRG index, 9 bits.' }),
    access: Type.Object(
      {
        read: Type.Optional(Type.Boolean()),
        write: Type.Optional(Type.Boolean()),
        exec: Type.Optional(Type.Boolean({ description: 'Execute Requested (PASID prefix).' })),
        privileged: Type.Optional(Type.Boolean({ description: 'Privileged Mode Requested (PASID prefix).' })),
      },
      closed,
    ),
    address: HexAddressSchema,
    /** L: the last request of its page request group. */
    last: Type.Boolean(),
    /** A Stop Marker is L=1 with R=W=0; given, it must agree with `last` and `access`. */
    stopMarker: Type.Optional(Type.Boolean()),
  },
  closed,
);
export type PageRequestRequestBody = Static<typeof PageRequestBody>;

export const PageRequestResult = Type.Object({
  /** The request's sequence number, as its events name it. */
  request: Type.Integer(),
  stopMarker: Type.Boolean(),
  /** Whether the lab went idle after it (a paused lab is run to its next idle; a running lab is not waited for). */
  idle: Type.Boolean(),
  /** The events it caused so far (those naming its device or the request itself), in order. */
  events: Type.Array(Document),
});

export const FailNthKindSchema = Type.Enum([...FAIL_NTH_KINDS]);

export const FailNthBody = Type.Object(
  {
    kind: FailNthKindSchema,
    n: Type.Integer({
      minimum: 1,
      maximum: MAX_FAIL_NTH,
      description: '1 fails the next allocation of the kind, 2 the one after it, …',
    }),
  },
  closed,
);

export const FailNthQuery = Type.Object({ kind: Type.Optional(FailNthKindSchema) }, closed);

export const FailNthCounterView = Type.Object({
  kind: FailNthKindSchema,
  /** Allocations of the kind since the lab's system was built, failed ones included. */
  allocations: Type.Integer(),
  /** Allocations fail-nth made fail. */
  failed: Type.Integer(),
  /** Allocations still to go until the armed one fails (1: the next); null when not armed. */
  remaining: Type.Union([Type.Integer(), Type.Null()]),
});

export const FailNthView = Type.Array(FailNthCounterView);

export type InjectionNamesAgree = [
  Agree<Same<Exclude<keyof PageRequestSpec, 'device'>, keyof PageRequestRequestBody>>,
  Agree<Same<keyof FailNthCounter, keyof Static<typeof FailNthCounterView>>>,
];
