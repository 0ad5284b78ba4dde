/**
 * The declarative system config: a JSON document that builds a whole system (memory, IOMMUs, devices,
 * processes, domains, mappings, attachments, bindings). Experiments store exactly this shape, so it is
 * versioned; the schema is TypeBox, i.e. JSON Schema, which the API reuses for validation and OpenAPI.
 */
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { EmulatorError } from '../errors';
import { DEFAULT_LATENCY, type LatencyModel } from '../latency/latency-model';
import { KERNEL_PROFILES } from '../profile/kernel-profile';
import { explainSchemaErrors, patterned, sentence } from './schema-errors';

const LATENCY_KEYS = Object.keys(DEFAULT_LATENCY) as (keyof LatencyModel)[];

export const SYSTEM_CONFIG_VERSION = 1;

/** An object schema with more (or overriding) fields; still closed to unknown fields. */
function withFields<P extends Type.TProperties, Q extends Type.TProperties>(
  base: Type.TObject<P>,
  fields: Q,
) {
  return Type.Object({ ...base.properties, ...fields } as Omit<P, keyof Q> & Q, {
    additionalProperties: false,
  });
}

export const IdSchema = Type.String({
  ...patterned(
    '^[A-Za-z][A-Za-z0-9_.-]{0,63}$',
    'a name starts with a letter, then letters, digits, "_", "." or "-", 64 characters at most, e.g. nic0',
  ),
  description: 'A name: a letter, then letters, digits, "_", "." or "-" (64 characters at most).',
});
export const HexAddressSchema = Type.String({
  ...patterned('^0x[0-9a-fA-F]{1,16}$', 'an address is hex with 0x, e.g. 0x7f0000001000'),
  description: 'An address as a hex string, e.g. "0x7f0000001000".',
});
export const SizeSchema = Type.Union(
  [Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), HexAddressSchema],
  {
    description: 'A size in bytes: an integer or a hex string.',
  },
);
export const ProtSchema = Type.String({
  ...patterned(
    '^(?!.*(.).*\\1)[rwxp]{1,4}$',
    'permissions are the letters r, w, x and p (privileged-only), each at most once, e.g. rw',
  ),
  description: 'Permissions: r, w, x and p (privileged-only), each at most once, e.g. "rw".',
});
export const PageSizeSchema = Type.Enum(['4K', '2M', '1G']);
export const ProfileSchema = Type.Enum([...KERNEL_PROFILES]);
export const FamilySchema = Type.Enum(['vtd', 'smmuv3']);
export const FeatureSchema = Type.Enum(['IOPF', 'SVA', 'AUX']);
export const DomainTypeSchema = Type.Enum(['blocked', 'identity', 'dma', 'nested']);
export const AccessSchema = Type.Enum(['read', 'write', 'exec']);

export const CacheGeometrySchema = Type.Object(
  {
    entries: Type.Integer({ minimum: 1, maximum: 1048576 }),
    ways: Type.Integer({ minimum: 1, maximum: 64 }),
    replacement: Type.Enum(['lru', 'fifo', 'random']),
  },
  { additionalProperties: false },
);

export const IommuCapabilitiesSchema = Type.Object(
  {
    addressWidth: Type.Enum([48, 57]),
    pasidBits: Type.Integer({ minimum: 0, maximum: 20 }),
    pri: Type.Boolean(),
    stall: Type.Boolean(),
    nesting: Type.Boolean(),
    sva: Type.Boolean(),
    pageSizes: Type.Array(PageSizeSchema, { minItems: 1, uniqueItems: true }),
    iotlb: CacheGeometrySchema,
    pageRequestQueueDepth: Type.Integer({ minimum: 1, maximum: 2 ** 20 }),
    faultQueueDepth: Type.Integer({ minimum: 1, maximum: 2 ** 20 }),
  },
  { additionalProperties: false },
);

export const IommuSpecSchema = Type.Object(
  {
    id: Type.Optional(IdSchema),
    family: FamilySchema,
    profile: ProfileSchema,
    capabilities: Type.Optional(Type.Partial(IommuCapabilitiesSchema)),
    /** What the driver reports: the fault categories it supports (the proposal's BIND / MAP). */
    driver: Type.Optional(
      Type.Object(
        { faultCategories: Type.Array(Type.Enum(['BIND', 'MAP']), { uniqueItems: true }) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const DeviceSpecSchema = Type.Object(
  {
    id: Type.Optional(IdSchema),
    iommu: IdSchema,
    kind: Type.Optional(Type.Enum(['pci', 'platform'])),
    rid: Type.Optional(
      Type.Union([
        Type.Integer({ minimum: 0, maximum: 0xffffffff }),
        Type.String(
          patterned(
            '^[0-9a-fA-F]{1,2}:[0-9a-fA-F]{1,2}\\.[0-7]$',
            'a requester ID is bus:device.function in hex, e.g. 00:03.0',
          ),
        ),
      ]),
    ),
    ats: Type.Optional(Type.Boolean()),
    pri: Type.Optional(
      Type.Object(
        { capacity: Type.Integer({ minimum: 1, maximum: 2 ** 32 - 1 }) },
        { additionalProperties: false },
      ),
    ),
    pasidBits: Type.Optional(Type.Integer({ minimum: 0, maximum: 20 })),
    prgResponsePasidRequired: Type.Optional(Type.Boolean()),
    stall: Type.Optional(Type.Boolean()),
    streamIds: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    managesOwnFaults: Type.Optional(Type.Boolean()),
    atc: Type.Optional(CacheGeometrySchema),
  },
  { additionalProperties: false },
);

export const VmaSpecSchema = Type.Object(
  {
    address: Type.Optional(HexAddressSchema),
    size: SizeSchema,
    prot: Type.String(
      patterned(
        '^(?!.*(.).*\\1)[rwx]{1,3}$',
        'permissions are the letters r, w and x, each at most once, e.g. rw',
      ),
    ),
  },
  { additionalProperties: false },
);

export const ProcessSpecSchema = Type.Object(
  {
    id: Type.Optional(IdSchema),
    /** 5-level CPU tables (57-bit user addresses). */
    fiveLevel: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const DomainSpecSchema = Type.Object(
  {
    id: Type.Optional(IdSchema),
    iommu: IdSchema,
    type: DomainTypeSchema,
    /** nested: the stage-2 DMA domain underneath. */
    parent: Type.Optional(IdSchema),
    /** dma: allocate as a nest parent (stage 2 of nested domains). */
    nestParent: Type.Optional(Type.Boolean()),
    /** dma: force the stage of its tables (VT-d first or second level). */
    stage: Type.Optional(Type.Enum([1, 2])),
  },
  { additionalProperties: false },
);

export const MappingSpecSchema = Type.Object(
  {
    iova: HexAddressSchema,
    size: SizeSchema,
    /** Physical (or, for a nested domain's stage 1, guest physical) address; omitted = allocate frames. */
    phys: Type.Optional(HexAddressSchema),
    prot: ProtSchema,
    pageSize: Type.Optional(PageSizeSchema),
  },
  { additionalProperties: false },
);

export const AttachSpecSchema = Type.Object(
  {
    pasid: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 20 - 1 })),
    replace: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** Every latency setting, each a number of ns (bytes/ns for transferBytesPerNs); see latency-model.ts. */
export const CategorySchema = Type.Enum(['BIND', 'MAP']);
export const ResponseCodeSchema = Type.Enum(['SUCCESS', 'INVALID', 'FAILURE']);

const RegionSchema = Type.Object(
  {
    iova: HexAddressSchema,
    size: SizeSchema,
    /** Fixed backing (MAP) or the guest physical base (guest); omitted for MAP: frames allocated on first use. */
    phys: Type.Optional(HexAddressSchema),
    prot: Type.Optional(ProtSchema),
  },
  { additionalProperties: false },
);

/** A fault handler: see fault/handler-registry.ts for which profile takes which. */
export const HandlerSpecSchema = Type.Union([
  Type.Object(
    {
      type: Type.Literal('external'),
      categories: Type.Optional(Type.Array(CategorySchema, { minItems: 1, uniqueItems: true })),
      timeoutNs: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
      timeoutResponse: Type.Optional(ResponseCodeSchema),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('sva'),
      categories: Type.Optional(Type.Array(CategorySchema, { minItems: 1, uniqueItems: true })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('map'),
      categories: Type.Optional(Type.Array(CategorySchema, { minItems: 1, uniqueItems: true })),
      region: RegionSchema,
      pinBudgetPages: Type.Integer({ minimum: 1, maximum: 2 ** 28 }),
    },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('guest'), region: RegionSchema }, { additionalProperties: false }),
]);

export const LatencySchema = Type.Object(
  Object.fromEntries(
    LATENCY_KEYS.map((key) => [
      key,
      key === 'transferBytesPerNs' ? Type.Number({ exclusiveMinimum: 0 }) : Type.Number({ minimum: 0 }),
    ]),
  ) as Record<(typeof LATENCY_KEYS)[number], Type.TNumber>,
  { additionalProperties: false },
);

export const SystemOptionsSchema = Type.Object(
  {
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    /** Physical memory in 4 KiB frames (default 2^20 = 4 GiB). */
    memoryFrames: Type.Optional(Type.Integer({ minimum: 16, maximum: 2 ** 28 })),
    /** Width of the global PASID space (default 20). */
    pasidBits: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
    latency: Type.Optional(Type.Partial(LatencySchema)),
    /** Page request queue overflow storm detection (fault/livelock-detector.ts); defaults there. */
    livelock: Type.Optional(
      Type.Object(
        {
          /** Lost page requests per useful fault past which the system stops (default 256; 0: never). */
          bound: Type.Optional(Type.Number({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const SystemConfigSchema = Type.Object(
  {
    version: Type.Literal(SYSTEM_CONFIG_VERSION),
    options: Type.Optional(SystemOptionsSchema),
    iommus: Type.Array(withFields(IommuSpecSchema, { id: IdSchema }), { minItems: 1 }),
    devices: Type.Optional(Type.Array(withFields(DeviceSpecSchema, { id: IdSchema }))),
    processes: Type.Optional(
      Type.Array(
        Type.Object(
          {
            id: IdSchema,
            fiveLevel: Type.Optional(Type.Boolean()),
            vmas: Type.Optional(Type.Array(VmaSpecSchema)),
            /** Ranges faulted in (written) at build time, as if the process had touched them. */
            resident: Type.Optional(
              Type.Array(
                Type.Object({ address: HexAddressSchema, size: SizeSchema }, { additionalProperties: false }),
              ),
            ),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    domains: Type.Optional(Type.Array(withFields(DomainSpecSchema, { id: IdSchema }))),
    mappings: Type.Optional(Type.Array(withFields(MappingSpecSchema, { domain: IdSchema }))),
    features: Type.Optional(
      Type.Array(Type.Object({ device: IdSchema, feature: FeatureSchema }, { additionalProperties: false })),
    ),
    attachments: Type.Optional(
      Type.Array(withFields(AttachSpecSchema, { device: IdSchema, domain: IdSchema })),
    ),
    bindings: Type.Optional(
      Type.Array(Type.Object({ device: IdSchema, process: IdSchema }, { additionalProperties: false })),
    ),
    /** Fault handlers, registered after features and before attachments (a domain's handler must precede its attach). */
    handlers: Type.Optional(
      Type.Array(
        Type.Object(
          { device: Type.Optional(IdSchema), domain: Type.Optional(IdSchema), handler: HandlerSpecSchema },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);

export type IommuSpec = Static<typeof IommuSpecSchema>;
export type DeviceSpec = Static<typeof DeviceSpecSchema>;
export type ProcessSpec = Static<typeof ProcessSpecSchema>;
export type VmaSpec = Static<typeof VmaSpecSchema>;
export type DomainSpec = Static<typeof DomainSpecSchema>;
export type MappingSpec = Static<typeof MappingSpecSchema>;
export type AttachSpec = Static<typeof AttachSpecSchema>;
export type SystemOptions = Static<typeof SystemOptionsSchema>;
export type SystemConfig = Static<typeof SystemConfigSchema>;
export type HandlerSpecConfig = Static<typeof HandlerSpecSchema>;

export { explainSchemaErrors, patterned, sentence, type SchemaError } from './schema-errors';

/**
 * Checks a value against a schema; throws (EINVAL for a call's input, ECONFIG for a config document)
 * naming the problem's path.
 */
export function validate<T>(
  schema: Type.TSchema,
  value: unknown,
  what: string,
  code: 'EINVAL' | 'ECONFIG' = 'EINVAL',
): T {
  if (Value.Check(schema, value)) return value as T;
  const { path, detail } = explainSchemaErrors(Value.Errors(schema, value), schema);
  throw new EmulatorError(code, sentence(`${what} ${path} ${detail}`), { path, reason: 'invalid' });
}
