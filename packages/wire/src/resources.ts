/**
 * Request bodies and parameters of the resources inside a lab. Specs of things the emulator builds
 * (IOMMUs, devices, domains, mappings, handlers, workloads) are its own schemas.
 */
import Type, { type Static } from 'typebox';
import {
  AccessSchema,
  CategorySchema,
  FeatureSchema,
  HexAddressSchema,
  IdSchema,
  ProtSchema,
  ResponseCodeSchema,
  SizeSchema,
  WorkloadSpecSchema,
  patterned,
} from '@iommu-lab/emulator/schemas';
import { Document } from './common';

export {
  AttachSpecSchema,
  DeviceSpecSchema,
  DomainSpecSchema,
  HandlerSpecSchema,
  IommuSpecSchema,
  MappingSpecSchema,
  ProcessSpecSchema,
  VmaSpecSchema,
  WorkloadSpecSchema,
} from '@iommu-lab/emulator/schemas';

const closed = { additionalProperties: false } as const;
const Pasid = Type.Integer({ minimum: 0, maximum: 2 ** 20 - 1 });

export const IommuParams = Type.Object({ lab: IdSchema, iommu: IdSchema });
export const DeviceParams = Type.Object({ lab: IdSchema, device: IdSchema });
export const FeatureParams = Type.Object({ lab: IdSchema, device: IdSchema, feature: FeatureSchema });
export const HandlerSlotParams = Type.Object({
  lab: IdSchema,
  device: IdSchema,
  slot: Type.Enum(['BIND', 'MAP', 'all']),
});
export const ProcessParams = Type.Object({ lab: IdSchema, process: IdSchema });
export const DomainParams = Type.Object({ lab: IdSchema, domain: IdSchema });
export const CookieParams = Type.Object({
  lab: IdSchema,
  cookie: Type.Integer({ minimum: 1, maximum: 2 ** 32 - 1 }),
});

export const AttachBody = Type.Object(
  { domain: IdSchema, pasid: Type.Optional(Pasid), replace: Type.Optional(Type.Boolean()) },
  closed,
);
export const DetachBody = Type.Object({ pasid: Type.Optional(Pasid) }, closed);
export const BindBody = Type.Object({ process: IdSchema }, closed);
export const BindResult = Type.Object({ pasid: Type.Integer(), domain: Type.String() });
export const ProtectBody = Type.Object(
  {
    address: HexAddressSchema,
    size: SizeSchema,
    prot: Type.String(
      patterned(
        '^(?!.*(.).*\\1)[rwx]{1,3}$',
        'permissions are the letters r, w and x, each at most once, e.g. rw',
      ),
    ),
  },
  closed,
);
export const UnmapBody = Type.Object({ iova: HexAddressSchema, size: SizeSchema }, closed);
export const AddressQuery = Type.Object({ iova: HexAddressSchema });
export const InvalidateIotlbBody = Type.Object(
  {
    domain: Type.Optional(IdSchema),
    pasid: Type.Optional(Pasid),
    iova: Type.Optional(HexAddressSchema),
    size: Type.Optional(SizeSchema),
  },
  closed,
);
export const InvalidateAtcBody = Type.Object(
  { pasid: Type.Optional(Pasid), iova: Type.Optional(HexAddressSchema), size: Type.Optional(SizeSchema) },
  closed,
);
export const InvalidateResult = Type.Object({
  entries: Type.Integer({ description: 'Cache entries dropped.' }),
});

/** One DMA transaction. `data` (for a write) is base64; the response carries what a read returned. */
export const DmaBody = Type.Object(
  {
    device: IdSchema,
    pasid: Type.Optional(Pasid),
    address: HexAddressSchema,
    length: Type.Integer({ minimum: 1, maximum: 1 << 20 }),
    access: AccessSchema,
    privileged: Type.Optional(Type.Boolean()),
    data: Type.Optional(
      Type.String({
        contentEncoding: 'base64',
        maxLength: 1_400_000,
        ...patterned('^[A-Za-z0-9+/]*={0,2}$', 'data is base64, e.g. AAECAw=='),
      }),
    ),
    returnData: Type.Optional(Type.Boolean()),
  },
  closed,
);
export type DmaRequestBody = Static<typeof DmaBody>;

export const DmaResult = Type.Object({
  transaction: Type.Integer(),
  state: Type.Enum(['running', 'waiting', 'completed', 'faulted', 'aborted']),
  error: Type.Union([Type.String(), Type.Null()]),
  latencyNs: Type.Number(),
  recoveries: Type.Integer(),
  bytesDone: Type.Integer(),
  fault: Type.Union([Document, Type.Null()]),
  data: Type.Optional(Type.String({ contentEncoding: 'base64' })),
  /** The fault flows it went through, in order (GET /labs/:lab/flows/:flow tells each one's story). */
  flows: Type.Array(Type.Integer({ minimum: 1 })),
  /** The events the transaction caused (those naming its device or itself), in order. */
  events: Type.Array(Document),
});

export const WorkloadBody = Type.Object(
  {
    workload: WorkloadSpecSchema,
    /**
     * Answer when the workload ends (default true): a paused lab is run to the end first; on a running lab
     * the request waits for the live clock, up to `waitMs` of wall-clock time, then answers 202 with the
     * progress so far (GET /labs/:lab/workloads/:workload follows it from there).
     */
    wait: Type.Optional(Type.Boolean()),
    /** The wall-clock bound of that wait on a running lab, ms (default and most 30,000). */
    waitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 30_000 })),
  },
  closed,
);

export const WorkloadParams = Type.Object({ lab: IdSchema, workload: IdSchema });

export const WorkloadResult = Type.Object({
  /** Its id in the lab, for GET /labs/:lab/workloads/:workload. */
  id: Type.String(),
  progress: Type.Object({
    submitted: Type.Integer(),
    ended: Type.Integer(),
    completed: Type.Integer(),
    failed: Type.Integer(),
    total: Type.Integer(),
  }),
  finished: Type.Boolean(),
  timeNs: Type.Number(),
  /** Event counts by kind in the lab from the workload's start until it ended (or until now). */
  eventsByKind: Type.Record(Type.String(), Type.Integer()),
  metrics: Document,
});

export const RespondBody = Type.Object({ code: ResponseCodeSchema }, closed);

export const PendingFaultView = Type.Object({
  cookie: Type.Integer(),
  device: Type.String(),
  pasid: Type.Union([Type.Integer(), Type.Null()]),
  category: Type.Union([CategorySchema, Type.Null()]),
  stage: Type.Integer(),
  faults: Type.Array(Type.Object({ address: Type.String(), perm: Type.String() })),
  sinceNs: Type.Number(),
});

export const MappingResult = Type.Object({ iova: Type.String(), phys: Type.String(), size: Type.Integer() });
export const VmaResult = Type.Object({ address: Type.String(), size: Type.Integer(), prot: Type.String() });
export const TranslateResult = Type.Object({
  phys: Type.String(),
  prot: ProtSchema,
  pageSize: Type.Enum(['4K', '2M', '1G']),
});
export const CountResult = Type.Object({ pages: Type.Integer() });
