/**
 * The iommufd interface of a lab (`/labs/:lab/iommufd/...`): one call per ioctl a VMM makes, with the
 * uAPI's numbers (flags and types as include/uapi/linux/iommufd.h has them), and the messages of the binary
 * channel that stands for a fault object's or a vEVENTQ's file descriptor.
 */
import Type, { type Static } from 'typebox';
import { HexAddressSchema, IdSchema, ProtSchema, SizeSchema } from '@iommu-lab/emulator/schemas';

const closed = { additionalProperties: false } as const;
/** An iommufd object id (a u32 from 1). */
const ObjectId = Type.Integer({ minimum: 1, maximum: 2 ** 32 - 1 });
const U32 = Type.Integer({ minimum: 0, maximum: 2 ** 32 - 1 });
const Pasid = Type.Integer({ minimum: 0, maximum: 2 ** 20 - 1 });

export const IommufdObjectParams = Type.Object({ lab: IdSchema, id: ObjectId });

export const IommufdBindBody = Type.Object(
  { device: IdSchema },
  { ...closed, description: 'VFIO_DEVICE_BIND_IOMMUFD: the device (unattached) becomes an iommufd device.' },
);
export const IoasMapBody = Type.Object(
  { iova: HexAddressSchema, size: SizeSchema, phys: HexAddressSchema, prot: ProtSchema },
  { ...closed, description: 'IOMMU_IOAS_MAP at a fixed IOVA: every paging HWPT of the IOAS gets it.' },
);
export const FaultAllocBody = Type.Object(
  { flags: Type.Optional(U32) },
  { ...closed, description: 'IOMMU_FAULT_QUEUE_ALLOC (takes no flags).' },
);
export const HwptAllocBody = Type.Object(
  {
    devId: ObjectId,
    ptId: ObjectId,
    flags: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 2 ** 32 - 1,
        description:
          'enum iommufd_hwpt_alloc_flags: NEST_PARENT 1, DIRTY_TRACKING 2, FAULT_ID_VALID 4, PASID 8.',
      }),
    ),
    faultId: Type.Optional(ObjectId),
  },
  {
    ...closed,
    description: 'IOMMU_HWPT_ALLOC on an IOAS (paging), a nest-parent HWPT or a vIOMMU (nested).',
  },
);
export const AttachPtBody = Type.Object(
  { devId: ObjectId, ptId: ObjectId, pasid: Type.Optional(Pasid) },
  { ...closed, description: 'VFIO_DEVICE_ATTACH_IOMMUFD_PT (with pasid: at that PASID).' },
);
export const DetachPtBody = Type.Object(
  { devId: ObjectId, pasid: Type.Optional(Pasid) },
  { ...closed, description: 'VFIO_DEVICE_DETACH_IOMMUFD_PT.' },
);
export const ViommuAllocBody = Type.Object(
  {
    devId: ObjectId,
    hwptId: ObjectId,
    type: Type.Integer({
      minimum: 0,
      maximum: 255,
      description: 'enum iommu_viommu_type: ARM_SMMUV3 1 (DEFAULT 0 is refused, EOPNOTSUPP).',
    }),
    flags: Type.Optional(U32),
  },
  { ...closed, description: 'IOMMU_VIOMMU_ALLOC on a nest-parent HWPT.' },
);
export const VdeviceAllocBody = Type.Object(
  { viommuId: ObjectId, devId: ObjectId, virtId: U32 },
  { ...closed, description: "IOMMU_VDEVICE_ALLOC: the device's ID as the guest sees it (a vSID on SMMUv3)." },
);
export const VeventqAllocBody = Type.Object(
  {
    viommuId: ObjectId,
    type: Type.Integer({ minimum: 0, maximum: 255, description: 'enum iommu_veventq_type: ARM_SMMUV3 1.' }),
    depth: Type.Integer({ minimum: 0, maximum: 2 ** 32 - 1, description: 'veventq_depth: events it holds.' }),
    flags: Type.Optional(U32),
  },
  closed,
);

/** What each allocation answers: the ids the ioctl writes back. */
export const IommufdIds = Type.Record(Type.String(), Type.Union([Type.Integer(), Type.String()]));
/** One object as GET /iommufd/objects lists it: its type, id and what it refers to. */
export const IommufdObjectView = Type.Object(
  { id: Type.Integer(), type: Type.String() },
  { additionalProperties: true },
);

/**
 * Text messages of a fault object's or vEVENTQ's channel. The client sends `read` (the answer is one binary
 * frame of whole records, maybe empty, or an error) and writes responses as binary frames (the answer is
 * `written`). The server says `readable` when the queue goes from empty to not.
 */
export const ChannelClientMessageSchema = Type.Object(
  { op: Type.Literal('read'), count: Type.Integer({ minimum: 0, maximum: 1 << 20 }) },
  closed,
);
export type ChannelClientMessage = Static<typeof ChannelClientMessageSchema>;

export type ChannelServerMessage =
  | { type: 'hello'; object: number; kind: 'fault' | 'veventq'; recordBytes: number; readable: number }
  | { type: 'readable' }
  | { type: 'written'; bytes: number }
  | { type: 'error'; code: string; message: string; reason?: string };
