/**
 * One opened /dev/iommu (struct iommufd_ctx, drivers/iommu/iommufd/, reference §4): the objects a VMM
 * allocates, by the ids iommufd gives them (one xarray from 1 for every type), on the emulator's
 * devices and domains. Each call is the ioctl of its name and refuses as the kernel does, before it
 * changes anything:
 * - IOMMU_HWPT_ALLOC: a paging HWPT on an IOAS (NEST_PARENT for stage 2), a nested one on a nest-parent
 *   HWPT or a vIOMMU; FAULT_ID_VALID makes the fault object its fault handler (hw_pagetable.c), refused
 *   with -EOPNOTSUPP together with NEST_PARENT (iommufd_hwpt_paging_alloc) and -ENOENT for a bad id.
 * - attach / replace / detach of a device or a device + PASID (device.c): attach over another HWPT is
 *   -EINVAL at the requester ID (iommufd_hw_pagetable_attach), -EBUSY at a PASID (the core's
 *   iommu_attach_device_pasid); replace needs an attachment (-EINVAL, iommufd_device_do_replace). Detach and
 *   replace answer INVALID to the groups of the attachment that went (iommufd_auto_response_faults): the
 *   fault path does that for every detach. IOPF is switched on, reference-counted, by the attach of a HWPT
 *   with a fault object, as for any fault-capable domain (domain/attach.ts, iommufd_fault_iopf_enable).
 * - IOMMU_DESTROY refuses an object something still uses with -EBUSY (iommufd_object_remove).
 * - vIOMMU / vDEVICE / vEVENTQ (viommu.c, eventq.c): a vIOMMU sits on a nest-parent HWPT; a vDEVICE gives
 *   a device its virtual ID (one per device, one device per ID: -EEXIST); one vEVENTQ per type (-EEXIST).
 *   Unrecoverable stage-1 events of a device attached to a nested HWPT of a vIOMMU with its vDEVICE are
 *   forwarded there as the raw SMMUv3 event record with the virtual StreamID (arm_vmaster_report_event).
 * Objects exist only on IOMMUs whose kernel profile has iommufd (mainline, proposal).
 */
import type { Device } from '../device/device';
import type { Domain } from '../domain/domain';
import { type MappingSpec, MappingSpecSchema, validate } from '../config/system-config';
import { fail } from '../errors';
import { FAMILY_MODELS } from '../iommu/family';
import type { FaultRecord } from '../iommu/fault-record';
import { requireInProfile } from '../profile/kernel-profile';
import { carryRecord, fromHex, type CarriedRecord } from '../records/bit-layout';
import { layoutById } from '../records/layouts';
import type { SimEnvironment } from '../sim/environment';
import type { System } from '../system';
import { FaultQueue } from './fault-queue';
import { IOMMU_HWPT_ALLOC, IOMMU_VEVENTQ_TYPE, IOMMU_VIOMMU_TYPE } from './uapi';
import { VeventQueue } from './veventq';

export type IommufdObjectType =
  'device' | 'ioas' | 'hwpt-paging' | 'hwpt-nested' | 'fault' | 'viommu' | 'vdevice' | 'veventq';

/** IOMMU_IOAS_MAP with IOMMU_IOAS_MAP_FIXED_IOVA: memory at `phys` (the VMM's guest RAM) at `iova`. */
type Mapping = MappingSpec & { phys: string };

interface DeviceObject {
  type: 'device';
  id: number;
  device: Device;
  /** HWPT attached at the requester ID and at each PASID, through this iommufd. */
  rid: HwptObject | null;
  pasids: Map<number, HwptObject>;
  vdevice: VdeviceObject | null;
}
interface IoasObject {
  type: 'ioas';
  id: number;
  mappings: Mapping[];
  hwpts: Set<HwptObject>;
}
interface HwptObject {
  type: 'hwpt-paging' | 'hwpt-nested';
  id: number;
  domain: Domain;
  ioas: IoasObject | null;
  parent: HwptObject | null;
  viommu: ViommuObject | null;
  fault: FaultObject | null;
  nestParent: boolean;
  /** IOMMU_HWPT_ALLOC_PASID: may be attached at a PASID (iommufd_hwpt_pasid_compat). */
  pasid: boolean;
  /** Made by an attach to an IOAS: destroyed with its last attachment (iommufd_hw_pagetable_put). */
  auto: boolean;
  /** Objects that hold it: nested HWPTs and vIOMMUs on it. */
  users: number;
  attachments: number;
}
interface FaultObject {
  type: 'fault';
  id: number;
  queue: FaultQueue;
  users: number;
}
interface ViommuObject {
  type: 'viommu';
  id: number;
  viommuType: number;
  hwpt: HwptObject;
  iommu: string;
  vdevices: Map<number, VdeviceObject>;
  veventqs: Map<number, VeventqObject>;
  /** Nested HWPTs allocated on it. */
  users: number;
}
interface VdeviceObject {
  type: 'vdevice';
  id: number;
  viommu: ViommuObject;
  device: DeviceObject;
  virtId: number;
}
interface VeventqObject {
  type: 'veventq';
  id: number;
  viommu: ViommuObject;
  queue: VeventQueue;
}
type IommufdObject =
  DeviceObject | IoasObject | HwptObject | FaultObject | ViommuObject | VdeviceObject | VeventqObject;

export interface HwptAllocSpec {
  devId: number;
  /** An IOAS (paging), a nest-parent paging HWPT or a vIOMMU (nested). */
  ptId: number;
  /** enum iommufd_hwpt_alloc_flags (uapi.ts IOMMU_HWPT_ALLOC). */
  flags?: number;
  faultId?: number;
}

export interface AttachPtSpec {
  devId: number;
  ptId: number;
  pasid?: number;
}

/** What describe() lists of one object: its type, id and what it refers to. */
export interface IommufdObjectInfo {
  id: number;
  type: IommufdObjectType;
  [detail: string]: unknown;
}

/** struct iommu_vevent_arm_smmuv3: the event record, 32 bytes. */
const SMMUV3_VEVENT_BYTES = 32;
const KNOWN_HWPT_FLAGS =
  IOMMU_HWPT_ALLOC.NEST_PARENT | IOMMU_HWPT_ALLOC.FAULT_ID_VALID | IOMMU_HWPT_ALLOC.PASID;

export class Iommufd {
  private readonly objects = new Map<number, IommufdObject>();
  private readonly bound = new Map<Device, DeviceObject>();
  private forwarding: (() => void) | null = null;
  /** Set while iommufd itself calls the system, which otherwise refuses to touch what iommufd holds. */
  private inside = false;

  constructor(
    private readonly system: System,
    private readonly env: SimEnvironment,
  ) {}

  /**
   * A domain of a HWPT and a device bound here change only through iommufd, as a VFIO cdev bound to
   * iommufd attaches only through VFIO_DEVICE_ATTACH_IOMMUFD_PT: the system's own calls are refused.
   */
  guard(domain: Domain | null, device: Device | null): void {
    if (this.inside) return;
    if (device !== null && this.bound.has(device))
      fail(
        'EBUSY',
        `${device.id} is bound to iommufd (device ${this.bound.get(device)!.id}): attach it through iommufd.`,
        {
          reason: 'iommufd-owned',
        },
      );
    if (domain === null) return;
    for (const object of this.objects.values())
      if ((object.type === 'hwpt-paging' || object.type === 'hwpt-nested') && object.domain === domain)
        fail(
          'EBUSY',
          `domain ${domain.id} is iommufd HWPT ${object.id}: destroy or attach it through iommufd.`,
          {
            reason: 'iommufd-owned',
          },
        );
  }

  /** Runs a system call on iommufd's behalf. */
  private asIommufd<T>(call: () => T): T {
    this.inside = true;
    try {
      return call();
    } finally {
      this.inside = false;
    }
  }

  // ——— devices (VFIO_DEVICE_BIND_IOMMUFD) ———

  bind(deviceId: string): { devId: number } {
    const device = this.system.device(deviceId);
    requireInProfile(device.iommu.profile, device.iommu.profile.iommufd, 'iommufd');
    if (this.bound.has(device))
      fail('EBUSY', `${device.id} is bound to this iommufd already.`, { reason: 'bound' });
    // vfio_df_iommufd_bind takes a device no one else has attached: it starts out blocked.
    if (device.ridDomain.type !== 'blocked' || device.pasidDomains.size > 0)
      fail('EBUSY', `${device.id} is attached to a domain; detach it before binding it to iommufd.`, {
        reason: 'attached',
      });
    const object: DeviceObject = {
      type: 'device',
      id: this.nextId(),
      device,
      rid: null,
      pasids: new Map(),
      vdevice: null,
    };
    this.add(object);
    this.bound.set(device, object);
    return { devId: object.id };
  }

  /** Closing the device's VFIO file: its attachments go, and its vDEVICE with it. */
  unbind(devId: number): void {
    const object = this.get(devId, 'device');
    for (const pasid of [...object.pasids.keys()]) this.detach({ devId, pasid });
    if (object.rid !== null) this.detach({ devId });
    if (object.vdevice !== null) this.removeVdevice(object.vdevice);
    this.objects.delete(object.id);
    this.bound.delete(object.device);
  }

  /** The iommufd device id of a bound device (struct iommu_hwpt_pgfault.dev_id). */
  devIdOf(device: Device): number {
    const object = this.bound.get(device);
    if (object === undefined)
      fail('ENOENT', `${device.id} is not bound to iommufd.`, { reason: 'not-bound' });
    return object.id;
  }

  // ——— IOAS ———

  ioasAlloc(): { ioasId: number } {
    const object: IoasObject = { type: 'ioas', id: this.nextId(), mappings: [], hwpts: new Set() };
    this.add(object);
    return { ioasId: object.id };
  }

  /** IOMMU_IOAS_MAP at a fixed IOVA, of memory at `phys`: every paging HWPT of the IOAS gets it. */
  ioasMap(ioasId: number, mapping: Mapping): void {
    const ioas = this.get(ioasId, 'ioas');
    validate(MappingSpecSchema, mapping, 'IOAS mapping');
    for (const hwpt of ioas.hwpts) this.system.map(hwpt.domain.id, mapping);
    ioas.mappings.push({ ...mapping });
  }

  // ——— fault objects (IOMMU_FAULT_QUEUE_ALLOC) ———

  faultQueueAlloc(spec: { flags?: number } = {}): { faultId: number } {
    if ((spec.flags ?? 0) !== 0)
      fail('EOPNOTSUPP', 'IOMMU_FAULT_QUEUE_ALLOC takes no flags.', { reason: 'bad-flags' });
    const id = this.nextId();
    const object: FaultObject = {
      type: 'fault',
      id,
      queue: new FaultQueue(id, (device) => this.devIdOf(device), this.env),
      users: 0,
    };
    this.add(object);
    return { faultId: id };
  }

  faultQueue(faultId: number): FaultQueue {
    return this.get(faultId, 'fault').queue;
  }

  // ——— HWPTs (IOMMU_HWPT_ALLOC) ———

  hwptAlloc(spec: HwptAllocSpec): { hwptId: number; domain: string } {
    const flags = spec.flags ?? 0;
    const idev = this.get(spec.devId, 'device');
    const pt = this.lookup(spec.ptId);
    if ((flags & ~KNOWN_HWPT_FLAGS) !== 0)
      fail('EOPNOTSUPP', `hwpt flags 0x${flags.toString(16)} name flags iommufd does not have.`, {
        reason: 'bad-flags',
      });
    const wantsFault = (flags & IOMMU_HWPT_ALLOC.FAULT_ID_VALID) !== 0;
    const nestParent = (flags & IOMMU_HWPT_ALLOC.NEST_PARENT) !== 0;
    let parent: HwptObject | null = null;
    let viommu: ViommuObject | null = null;
    if (pt.type === 'ioas') {
      // iommufd_hwpt_paging_alloc: a stage-2 parent takes no faults (stage 2 is pinned, reference §4).
      if (wantsFault && nestParent)
        fail('EOPNOTSUPP', 'a nest-parent paging HWPT cannot take a fault object.', {
          reason: 'fault-on-nest-parent',
        });
    } else if (pt.type === 'hwpt-paging' || pt.type === 'viommu') {
      if ((flags & ~IOMMU_HWPT_ALLOC.FAULT_ID_VALID) !== 0)
        fail('EOPNOTSUPP', 'a nested HWPT takes no flag but FAULT_ID_VALID.', { reason: 'bad-flags' });
      viommu = pt.type === 'viommu' ? pt : null;
      parent = pt.type === 'viommu' ? pt.hwpt : pt;
      if (!parent.nestParent)
        fail('EINVAL', `HWPT ${parent.id} was not allocated with IOMMU_HWPT_ALLOC_NEST_PARENT.`, {
          reason: 'not-nest-parent',
        });
      if (viommu !== null && viommu.iommu !== idev.device.iommu.id)
        fail('EINVAL', `vIOMMU ${viommu.id} is on ${viommu.iommu}, not on ${idev.device.id}'s IOMMU.`, {
          reason: 'foreign-viommu',
        });
    } else {
      fail('EINVAL', `object ${spec.ptId} is a ${pt.type}, not an IOAS, a paging HWPT or a vIOMMU.`, {
        reason: 'bad-pt',
      });
    }
    const fault = wantsFault ? this.get(spec.faultId ?? 0, 'fault') : null;
    const hwpt = this.newHwpt(idev, pt.type === 'ioas' ? pt : null, parent, viommu, fault, flags, false);
    return { hwptId: hwpt.id, domain: hwpt.domain.id };
  }

  // ——— attach, replace, detach (VFIO_DEVICE_ATTACH/DETACH_IOMMUFD_PT) ———

  /** Attaches the device (at a PASID) to a HWPT, or to an IOAS through an automatic paging HWPT; the HWPT id. */
  attach(spec: AttachPtSpec): { ptId: number } {
    const idev = this.get(spec.devId, 'device');
    const current = spec.pasid === undefined ? idev.rid : (idev.pasids.get(spec.pasid) ?? null);
    const hwpt = this.hwptFor(idev, spec.ptId, spec.pasid);
    if (current === hwpt) return { ptId: hwpt.id };
    if (current !== null) {
      this.dropIfUnusedAuto(hwpt);
      if (spec.pasid === undefined)
        fail('EINVAL', `${idev.device.id} is attached to HWPT ${current.id}; replace it instead.`, {
          reason: 'attached',
        });
      fail('EBUSY', `PASID ${spec.pasid} of ${idev.device.id} is attached to HWPT ${current.id}.`, {
        reason: 'pasid-busy',
      });
    }
    this.bindHwpt(idev, hwpt, spec.pasid, false);
    return { ptId: hwpt.id };
  }

  replace(spec: AttachPtSpec): { ptId: number } {
    const idev = this.get(spec.devId, 'device');
    const current = spec.pasid === undefined ? idev.rid : (idev.pasids.get(spec.pasid) ?? null);
    if (current === null) {
      const where = spec.pasid === undefined ? 'its requester ID' : `PASID ${spec.pasid}`;
      fail('EINVAL', `${idev.device.id} has nothing attached at ${where} to replace.`, {
        reason: 'not-attached',
      });
    }
    const hwpt = this.hwptFor(idev, spec.ptId, spec.pasid);
    if (current === hwpt) return { ptId: hwpt.id };
    this.bindHwpt(idev, hwpt, spec.pasid, true);
    this.release(current);
    return { ptId: hwpt.id };
  }

  detach(spec: { devId: number; pasid?: number }): void {
    const idev = this.get(spec.devId, 'device');
    const current = spec.pasid === undefined ? idev.rid : (idev.pasids.get(spec.pasid) ?? null);
    if (current === null) {
      const where = spec.pasid === undefined ? 'its requester ID' : `PASID ${spec.pasid}`;
      fail('ENOENT', `${idev.device.id} has no HWPT attached at ${where}.`, { reason: 'not-attached' });
    }
    this.asIommufd(() => this.system.detach(idev.device.id, spec.pasid));
    if (spec.pasid === undefined) idev.rid = null;
    else idev.pasids.delete(spec.pasid);
    this.release(current);
  }

  // ——— vIOMMU, vDEVICE, vEVENTQ ———

  viommuAlloc(spec: { devId: number; hwptId: number; type: number; flags?: number }): { viommuId: number } {
    const idev = this.get(spec.devId, 'device');
    const hwpt = this.get(spec.hwptId, 'hwpt-paging');
    // iommufd_viommu_alloc_ioctl: no flags and no DEFAULT type, before anything is looked up.
    if ((spec.flags ?? 0) !== 0 || spec.type === IOMMU_VIOMMU_TYPE.DEFAULT)
      fail('EOPNOTSUPP', 'IOMMU_VIOMMU_ALLOC takes no flags and no DEFAULT type.', { reason: 'bad-flags' });
    const { family, model } = idev.device.iommu;
    if (!model.viommuTypes.includes(spec.type))
      fail('EOPNOTSUPP', `the ${family} driver has no vIOMMU of type ${spec.type}.`, { reason: 'bad-type' });
    if (!hwpt.nestParent)
      fail('EINVAL', `a vIOMMU sits on a nest-parent HWPT; ${hwpt.id} is not one.`, {
        reason: 'not-nest-parent',
      });
    if (hwpt.domain.iommu !== idev.device.iommu)
      fail('EINVAL', `HWPT ${hwpt.id} is on ${hwpt.domain.iommu.id}, not ${idev.device.iommu.id}.`, {
        reason: 'foreign-domain',
      });
    const object: ViommuObject = {
      type: 'viommu',
      id: this.nextId(),
      viommuType: spec.type,
      hwpt,
      iommu: idev.device.iommu.id,
      vdevices: new Map(),
      veventqs: new Map(),
      users: 0,
    };
    hwpt.users++;
    this.add(object);
    return { viommuId: object.id };
  }

  vdeviceAlloc(spec: { viommuId: number; devId: number; virtId: number }): { vdeviceId: number } {
    const viommu = this.get(spec.viommuId, 'viommu');
    const idev = this.get(spec.devId, 'device');
    if (!Number.isSafeInteger(spec.virtId) || spec.virtId < 0 || spec.virtId > 0xffff_ffff)
      fail('EINVAL', `virtual ID ${spec.virtId} is not a u32.`, { reason: 'bad-virt-id' });
    if (idev.device.iommu.id !== viommu.iommu)
      fail('EINVAL', `${idev.device.id} is not behind ${viommu.iommu}, vIOMMU ${viommu.id}'s IOMMU.`, {
        reason: 'foreign-viommu',
      });
    if (idev.vdevice !== null)
      fail('EEXIST', `${idev.device.id} has vDEVICE ${idev.vdevice.id} already.`, { reason: 'has-vdevice' });
    if (viommu.vdevices.has(spec.virtId))
      fail('EEXIST', `virtual ID ${spec.virtId} is taken on vIOMMU ${viommu.id}.`, {
        reason: 'virt-id-taken',
      });
    const object: VdeviceObject = {
      type: 'vdevice',
      id: this.nextId(),
      viommu,
      device: idev,
      virtId: spec.virtId,
    };
    viommu.vdevices.set(spec.virtId, object);
    idev.vdevice = object;
    this.add(object);
    return { vdeviceId: object.id };
  }

  veventqAlloc(spec: { viommuId: number; type: number; depth: number; flags?: number }): {
    veventqId: number;
  } {
    if ((spec.flags ?? 0) !== 0 || spec.type === IOMMU_VEVENTQ_TYPE.DEFAULT)
      fail('EOPNOTSUPP', 'IOMMU_VEVENTQ_ALLOC takes no flags and no DEFAULT type.', { reason: 'bad-type' });
    if (!Number.isSafeInteger(spec.depth) || spec.depth <= 0 || spec.depth > 0xffff_ffff)
      fail('EINVAL', `veventq_depth must be 1 or more, not ${spec.depth}.`, { reason: 'bad-depth' });
    const viommu = this.get(spec.viommuId, 'viommu');
    if (spec.type !== IOMMU_VEVENTQ_TYPE.ARM_SMMUV3 || viommu.viommuType !== IOMMU_VIOMMU_TYPE.ARM_SMMUV3)
      fail('EOPNOTSUPP', `vIOMMU ${viommu.id} reports no events of type ${spec.type}.`, {
        reason: 'bad-type',
      });
    if ([...viommu.veventqs.values()].some((q) => q.queue.type === spec.type))
      fail('EEXIST', `vIOMMU ${viommu.id} has a vEVENTQ of type ${spec.type} already.`, {
        reason: 'veventq-exists',
      });
    const id = this.nextId();
    const object: VeventqObject = {
      type: 'veventq',
      id,
      viommu,
      queue: new VeventQueue(id, viommu.id, spec.type, spec.depth, SMMUV3_VEVENT_BYTES),
    };
    viommu.veventqs.set(id, object);
    this.add(object);
    this.forwardEvents();
    return { veventqId: id };
  }

  veventq(veventqId: number): VeventQueue {
    return this.get(veventqId, 'veventq').queue;
  }

  // ——— IOMMU_DESTROY ———

  destroy(id: number): void {
    const object = this.lookup(id);
    const busy = (why: string): never =>
      fail('EBUSY', `object ${id} (${object.type}) ${why}.`, { reason: 'in-use' });
    switch (object.type) {
      case 'device':
        busy('is held by its device file: unbind it');
        break;
      case 'ioas':
        if (object.hwpts.size > 0) busy(`has ${object.hwpts.size} HWPT(s)`);
        break;
      case 'hwpt-paging':
      case 'hwpt-nested':
        if (object.attachments > 0) busy(`is attached to ${object.attachments} device(s)`);
        if (object.users > 0) busy('has nested HWPTs or vIOMMUs on it');
        this.removeHwpt(object);
        return;
      case 'fault':
        if (object.users > 0) busy(`is the fault object of ${object.users} HWPT(s)`);
        object.queue.destroy();
        break;
      case 'viommu':
        if (object.users > 0 || object.vdevices.size > 0 || object.veventqs.size > 0)
          busy('has nested HWPTs, vDEVICEs or vEVENTQs');
        object.hwpt.users--;
        break;
      case 'vdevice':
        this.removeVdevice(object);
        return;
      case 'veventq':
        object.viommu.veventqs.delete(object.id);
        break;
    }
    this.objects.delete(id);
  }

  describe(): IommufdObjectInfo[] {
    return [...this.objects.values()].map((object): IommufdObjectInfo => {
      switch (object.type) {
        case 'device':
          return {
            id: object.id,
            type: object.type,
            device: object.device.id,
            rid: object.rid?.id ?? null,
            pasids: Object.fromEntries([...object.pasids].map(([pasid, hwpt]) => [pasid, hwpt.id])),
          };
        case 'ioas':
          return { id: object.id, type: object.type, mappings: object.mappings.length };
        case 'hwpt-paging':
        case 'hwpt-nested':
          return {
            id: object.id,
            type: object.type,
            domain: object.domain.id,
            parent: object.parent?.id ?? object.ioas?.id ?? null,
            viommu: object.viommu?.id ?? null,
            fault: object.fault?.id ?? null,
            nestParent: object.nestParent,
            auto: object.auto,
            attachments: object.attachments,
          };
        case 'fault':
          return {
            id: object.id,
            type: object.type,
            queued: object.queue.readable(),
            awaitingResponse: object.queue.awaitingResponse(),
          };
        case 'viommu':
          return {
            id: object.id,
            type: object.type,
            viommuType: object.viommuType,
            hwpt: object.hwpt.id,
            iommu: object.iommu,
          };
        case 'vdevice':
          return {
            id: object.id,
            type: object.type,
            viommu: object.viommu.id,
            dev: object.device.id,
            virtId: object.virtId,
          };
        case 'veventq':
          return { ...object.queue.describe(), type: object.type };
      }
    });
  }

  // ——— inside ———

  private hwptFor(idev: DeviceObject, ptId: number, pasid: number | undefined): HwptObject {
    const pt = this.lookup(ptId);
    if (pt.type === 'ioas') {
      // iommufd_device_auto_get_domain: any automatic HWPT of the IOAS on the device's IOMMU will do.
      for (const hwpt of pt.hwpts) if (hwpt.auto && hwpt.domain.iommu === idev.device.iommu) return hwpt;
      const flags = pasid === undefined ? 0 : IOMMU_HWPT_ALLOC.PASID;
      return this.newHwpt(idev, pt, null, null, null, flags, true);
    }
    if (pt.type !== 'hwpt-paging' && pt.type !== 'hwpt-nested')
      fail('EINVAL', `object ${ptId} is a ${pt.type}, not an IOAS or a HWPT.`, { reason: 'bad-pt' });
    // arm_smmu_attach_prepare_vmaster / the selftest's mock: a nested HWPT of a vIOMMU takes only a device
    // with a vDEVICE there (iommufd_viommu_get_vdev_id: -ENOENT).
    if (pt.viommu !== null && idev.vdevice?.viommu !== pt.viommu)
      fail(
        'ENOENT',
        `${idev.device.id} has no vDEVICE on vIOMMU ${pt.viommu.id}: allocate one before attaching.`,
        {
          reason: 'no-vdevice',
        },
      );
    if (pasid !== undefined && pt.type === 'hwpt-paging' && !pt.pasid)
      fail('EINVAL', `HWPT ${pt.id} was not allocated with IOMMU_HWPT_ALLOC_PASID.`, {
        reason: 'not-pasid-compat',
      });
    return pt;
  }

  /** Attaches through the emulator (its rules refuse first), then records the attachment. */
  private bindHwpt(idev: DeviceObject, hwpt: HwptObject, pasid: number | undefined, replace: boolean): void {
    try {
      this.asIommufd(() => this.system.attach(idev.device.id, hwpt.domain.id, { pasid, replace }));
    } catch (error) {
      this.dropIfUnusedAuto(hwpt);
      throw error;
    }
    hwpt.attachments++;
    if (pasid === undefined) idev.rid = hwpt;
    else idev.pasids.set(pasid, hwpt);
  }

  private release(hwpt: HwptObject): void {
    hwpt.attachments--;
    this.dropIfUnusedAuto(hwpt);
  }

  private dropIfUnusedAuto(hwpt: HwptObject): void {
    if (hwpt.auto && hwpt.attachments === 0) this.removeHwpt(hwpt);
  }

  private newHwpt(
    idev: DeviceObject,
    ioas: IoasObject | null,
    parent: HwptObject | null,
    viommu: ViommuObject | null,
    fault: FaultObject | null,
    flags: number,
    auto: boolean,
  ): HwptObject {
    const iommu = idev.device.iommu.id;
    const id = this.nextId();
    const nestParent = (flags & IOMMU_HWPT_ALLOC.NEST_PARENT) !== 0;
    const domain =
      parent === null
        ? this.system.createDomain({
            id: `iommufd-hwpt-${id}`,
            iommu,
            type: 'dma',
            ...(nestParent ? { nestParent } : {}),
          })
        : this.system.createDomain({
            id: `iommufd-hwpt-${id}`,
            iommu,
            type: 'nested',
            parent: parent.domain.id,
          });
    const hwpt: HwptObject = {
      type: parent === null ? 'hwpt-paging' : 'hwpt-nested',
      id,
      domain,
      ioas,
      parent,
      viommu,
      fault,
      nestParent,
      pasid: (flags & IOMMU_HWPT_ALLOC.PASID) !== 0 || parent !== null,
      auto,
      users: 0,
      attachments: 0,
    };
    if (ioas !== null) {
      for (const mapping of ioas.mappings) this.system.map(domain.id, mapping);
      ioas.hwpts.add(hwpt);
    }
    if (parent !== null) parent.users++;
    if (viommu !== null) viommu.users++;
    if (fault !== null) {
      // iommufd_hwpt_alloc: domain->iopf_handler = iommufd_fault_iopf_handler.
      fault.users++;
      domain.faultHandler = fault.queue;
      this.env.bus.emit({
        kind: 'handler.registered',
        device: null,
        domain: domain.id,
        handler: 'iommufd',
        categories: null,
      });
    }
    this.add(hwpt);
    return hwpt;
  }

  private removeHwpt(hwpt: HwptObject): void {
    this.asIommufd(() => this.system.destroyDomain(hwpt.domain.id));
    hwpt.ioas?.hwpts.delete(hwpt);
    if (hwpt.parent !== null) hwpt.parent.users--;
    if (hwpt.viommu !== null) hwpt.viommu.users--;
    if (hwpt.fault !== null) hwpt.fault.users--;
    this.objects.delete(hwpt.id);
  }

  private removeVdevice(vdevice: VdeviceObject): void {
    vdevice.viommu.vdevices.delete(vdevice.virtId);
    vdevice.device.vdevice = null;
    this.objects.delete(vdevice.id);
  }

  /** From the first vEVENTQ on, unrecoverable events are looked at for forwarding. */
  private forwardEvents(): void {
    this.forwarding ??= this.system.on('fault.unrecoverable', (event) => this.forward(event));
  }

  /**
   * arm_smmu_handle_event: an event the family's driver forwards (IommuFamilyModel.forwardsToViommu), of a
   * device whose vmaster exists (attached at its requester ID to a nested HWPT of a vIOMMU holding its
   * vDEVICE), goes to that vIOMMU's vEVENTQ with EVTQ_0_SID set to the virtual ID (arm_vmaster_report_event).
   */
  private forward(event: FaultRecord & { records: CarriedRecord[] }): void {
    if (!FAMILY_MODELS[event.family].forwardsToViommu(event)) return;
    const idev = this.bound.get(this.system.device(event.device));
    const viommu = idev?.rid?.viommu;
    if (idev === undefined || viommu == null || idev.vdevice?.viommu !== viommu) return;
    const record = event.records.find((r) => r.layout.startsWith('smmuv3.event-record'));
    const queue = [...viommu.veventqs.values()].find((q) => q.queue.type === IOMMU_VEVENTQ_TYPE.ARM_SMMUV3);
    if (record === undefined || queue === undefined) return;
    const bytes = fromHex(record.hex);
    const { virtId } = idev.vdevice;
    new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(4, virtId, true);
    const { lost, sequence } = queue.queue.report(bytes);
    if (this.env.bus.wants('iommufd.vevent'))
      this.env.bus.emit({
        kind: 'iommufd.vevent',
        veventq: queue.id,
        viommu: viommu.id,
        device: idev.device.id,
        virtId,
        sequence,
        lost,
        records: lost ? [] : [carryRecord(layoutById(record.layout), bytes)],
      });
  }

  private nextId(): number {
    // xa_alloc over the object xarray: the lowest free id from 1.
    let id = 1;
    while (this.objects.has(id)) id++;
    return id;
  }

  private add(object: IommufdObject): void {
    this.objects.set(object.id, object);
  }

  private lookup(id: number): IommufdObject {
    const object = this.objects.get(id);
    if (object === undefined) fail('ENOENT', `iommufd has no object ${id}.`, { reason: 'no-object' });
    return object;
  }

  private get<T extends IommufdObjectType>(id: number, type: T): IommufdObject & { type: T } {
    const object = this.objects.get(id);
    // iommufd_get_object: a missing id and an id of another type are both -ENOENT.
    if (object === undefined || object.type !== type)
      fail('ENOENT', `iommufd has no ${type} object ${id}.`, { reason: 'no-object' });
    return object as IommufdObject & { type: T };
  }
}
