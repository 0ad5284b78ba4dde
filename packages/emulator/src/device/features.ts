/**
 * Per-device I/O page fault enablement, the two ways the kernel has done it (reference §3):
 * - seed-5.13 / proposal: explicit features IOPF, SVA and AUX through iommu_dev_{enable,disable}_feature,
 *   with the ordering rules and error codes of the 5.13-era drivers (arm-smmu-v3.c, intel/iommu.c);
 * - mainline: no feature calls; I/O page faults switched on, reference-counted, while a fault-capable
 *   domain is attached (Intel info->iopf_refcount, iommufd idev->iopf_enabled).
 * What each family's driver checks is in its family model (iommu/vtd.ts, iommu/smmuv3.ts: iopfSupported,
 * iopfMissing, attachWithoutIopf); the profile's rules in profile/kernel-profile.ts.
 */
import { fail } from '../errors';
import { requireInProfile } from '../profile/kernel-profile';
import type { EventBus } from '../sim/event-bus';
import type { Device, DeviceFeature } from './device';

export type FaultMechanism = 'pri' | 'stall';

/** How this device would take I/O page faults behind its IOMMU, or null when it cannot. */
export function faultMechanism(device: Device): FaultMechanism | null {
  const { caps, iommu } = device;
  if (caps.stall && iommu.caps.stall && caps.streamIds === 1) return 'stall';
  if (caps.pri !== null && caps.ats && iommu.caps.pri) return 'pri';
  return null;
}

/** dev_has_feature: what the driver would report for this device under its profile. */
export function hasFeature(device: Device, feature: DeviceFeature): boolean {
  const { iommu } = device;
  const iopf = faultMechanism(device) !== null && iommu.model.iopfSupported(device.caps, iommu.profile);
  switch (feature) {
    case 'IOPF':
      return iopf;
    case 'SVA':
      return iommu.caps.sva && device.maxPasids > 0 && (iopf || device.caps.managesOwnFaults);
    case 'AUX':
      return iommu.profile.auxFeature && iommu.model.auxDomains && device.maxPasids > 0;
  }
}

/** SVA needs IOPF first unless the device handles its own faults ("some devices manage IOPF themselves"). */
export function svaNeedsIopf(device: Device): boolean {
  return !device.caps.managesOwnFaults;
}

export function enableFeature(device: Device, feature: DeviceFeature, bus: EventBus): void {
  requireInProfile(device.iommu.profile, device.iommu.profile.featureCalls, 'iommu_dev_enable_feature()');
  if (!hasFeature(device, feature)) {
    fail(
      'ENODEV',
      `${device.id} does not support ${feature} behind ${device.iommu.id} (${missingCapability(device, feature)}).`,
      {
        reason: 'capability-missing',
      },
    );
  }
  if (device.features.has(feature))
    fail('EBUSY', `${feature} is already enabled on ${device.id}.`, { reason: 'already-enabled' });
  if (feature === 'SVA' && svaNeedsIopf(device) && !device.features.has('IOPF')) {
    fail(
      'EINVAL',
      `enable IOPF on ${device.id} before SVA: I/O page faults must be on before SVA (IOMMU_DEV_FEAT_IOPF kernel-doc).`,
      {
        reason: 'iopf-before-sva',
      },
    );
  }
  // SVA on a device that uses IOPF registers the kernel's fault handler for it (5.13: iommu_queue_iopf
  // through iommu_register_device_fault_handler, which refuses a device that already has one).
  const svaHandlerSlot = feature === 'SVA' && svaNeedsIopf(device) ? kernelSvaSlot(device) : null;
  if (svaHandlerSlot === '*' && device.faultHandlers.has('*')) {
    fail(
      'EBUSY',
      `${device.id} already has a fault handler; SVA needs to register the kernel's (iommu_queue_iopf).`,
      { reason: 'handler-registered' },
    );
  }
  if (feature === 'IOPF') switchFaultsOn(device, bus);
  if (svaHandlerSlot !== null && !device.faultHandlers.has(svaHandlerSlot))
    device.faultHandlers.set(svaHandlerSlot, device.iommu.svaHandler);
  device.features.add(feature);
  bus.emit({ kind: 'feature.enabled', device: device.id, feature });
}

/** Where the kernel's SVA handler goes: the one device handler (seed-5.13) or the BIND category (proposal). */
function kernelSvaSlot(device: Device): '*' | 'BIND' {
  return device.iommu.profile.categoryHandlers ? 'BIND' : '*';
}

export function disableFeature(device: Device, feature: DeviceFeature, bus: EventBus): void {
  requireInProfile(device.iommu.profile, device.iommu.profile.featureCalls, 'iommu_dev_disable_feature()');
  if (!device.features.has(feature))
    fail('EINVAL', `${feature} is not enabled on ${device.id}.`, { reason: 'not-enabled' });
  if (feature === 'IOPF' && device.features.has('SVA') && svaNeedsIopf(device)) {
    fail('EBUSY', `disable SVA on ${device.id} before IOPF: I/O page faults must stay on while SVA is.`, {
      reason: 'sva-before-iopf',
    });
  }
  if (feature === 'SVA' && device.bonds.size > 0) {
    fail('EBUSY', `${device.id} still has ${device.bonds.size} SVA bond(s); unbind them first.`, {
      reason: 'bound',
    });
  }
  if (feature === 'AUX' && auxAttachments(device) > 0) {
    fail('EBUSY', `${device.id} still has auxiliary domains attached; detach them first.`, {
      reason: 'aux-attached',
    });
  }
  if (feature === 'IOPF') switchFaultsOff(device, bus);
  if (feature === 'SVA') {
    for (const [slot, handler] of [...device.faultHandlers])
      if (handler === device.iommu.svaHandler) device.faultHandlers.delete(slot);
  }
  device.features.delete(feature);
  bus.emit({ kind: 'feature.disabled', device: device.id, feature });
}

/**
 * mainline: a fault-capable domain is being attached. Throws (changing nothing) when the device cannot
 * take I/O page faults at all, unless its family attaches without them (IommuFamilyModel.attachWithoutIopf:
 * on SMMUv3 a master without stall just gets none).
 */
export function checkIopfAcquirable(device: Device): void {
  if (device.caps.managesOwnFaults || device.iommu.model.attachWithoutIopf) return;
  if (
    faultMechanism(device) === null ||
    !device.iommu.model.iopfSupported(device.caps, device.iommu.profile)
  ) {
    fail('ENODEV', `${device.id} cannot take I/O page faults (${missingCapability(device, 'IOPF')}).`, {
      reason: 'capability-missing',
    });
  }
}

/** Takes a reference for the attach of `domain` at `pasid` (null: the RID); the first one is remembered. */
export function acquireIopf(device: Device, bus: EventBus, domain: string, pasid: number | null): void {
  checkIopfAcquirable(device);
  if (device.iopfUsers++ === 0) {
    device.iopfEnabledBy = { domain, pasid, timeNs: bus.nowNs };
    if (faultMechanism(device) !== null) switchFaultsOn(device, bus);
  }
}

export function releaseIopf(device: Device, bus: EventBus): void {
  if (device.iopfUsers === 0) return;
  if (--device.iopfUsers > 0) return;
  device.iopfEnabledBy = null;
  if (device.pri.enabled || device.stallEnabled) switchFaultsOff(device, bus);
}

function switchFaultsOn(device: Device, bus: EventBus): void {
  const mechanism = faultMechanism(device)!;
  if (mechanism === 'stall') {
    device.stallEnabled = true;
  } else {
    // pci_enable_pri(dev, PRQ depth): Allocation = min(Capacity, requested), reference §3.
    device.pri.enabled = true;
    device.pri.responseFailure = false;
    device.pri.allocation = Math.min(device.caps.pri!.capacity, device.iommu.caps.pageRequestQueueDepth);
  }
  bus.emit({ kind: 'iopf.enabled', device: device.id, mechanism, priAllocation: device.pri.allocation });
}

function switchFaultsOff(device: Device, bus: EventBus): void {
  device.stallEnabled = false;
  device.pri.enabled = false;
  device.pri.allocation = 0;
  bus.emit({ kind: 'iopf.disabled', device: device.id });
}

function auxAttachments(device: Device): number {
  let count = 0;
  for (const domain of device.pasidDomains.values()) if (domain.type === 'dma') count++;
  return count;
}

function missingCapability(device: Device, feature: DeviceFeature): string {
  const { iommu } = device;
  if (feature === 'AUX') {
    if (!iommu.profile.auxFeature) return `no AUX under ${iommu.profile.name}`;
    return iommu.model.auxDomains ? 'no PASID capability' : `${iommu.model.label} has no auxiliary domains`;
  }
  if (feature === 'SVA' && (!iommu.caps.sva || device.maxPasids === 0))
    return iommu.caps.sva ? 'no PASID capability' : 'the IOMMU has no SVA';
  return iommu.model.iopfMissing(device.caps, iommu.caps, iommu.profile);
}
