/**
 * What may attach where (iommu_attach_device / iommu_attach_device_pasid / AUX attach, reference §3):
 * - a domain serves devices behind its own IOMMU only (-EINVAL);
 * - the requester ID takes one domain at a time: attaching over a non-blocked domain is -EBUSY unless
 *   the caller asks to replace it (iommu_group_replace_domain);
 * - a PASID must be supported by the device, not 0 (IOMMU_NO_PASID) and below its PASID table size
 *   (-EINVAL), and free (-EBUSY) unless the caller replaces its domain (iommu_replace_device_pasid);
 * - SVA domains come only from an SVA bind; at a PASID, identity and nested domains need family support
 *   (-EOPNOTSUPP); before iommu_attach_device_pasid (v6.2) a DMA domain reaches a PASID only as an
 *   auxiliary domain, which needs the AUX feature (-EPERM).
 * Under mainline, attaching a fault-capable domain (one with its own fault handler: SVA, an iommufd
 * fault queue) switches I/O page faults on, reference-counted; detaching switches them off again.
 * A replaced or detached attachment flushes the device's ATC for it (ATC entries are tagged by PASID,
 * not by domain, so they would outlive it) and tells the fault path, which answers what was pending.
 */
import type { Device } from '../device/device';
import { acquireIopf, checkIopfAcquirable, releaseIopf } from '../device/features';
import { fail } from '../errors';
import type { EventBus } from '../sim/event-bus';
import { type Domain, NO_PASID } from './domain';

export interface AttachOptions {
  /** Replace a domain already attached at the requester ID instead of refusing with EBUSY. */
  replace?: boolean;
}

export interface AttachContext {
  bus: EventBus;
  /**
   * An attachment of `domain` went away: the fault path answers its pending faults, and unless another
   * domain replaced it at once, the device stops using the PASID.
   */
  onDetach(device: Device, pasid: number | null, domain: Domain, replaced: boolean): void;
}

export function attachDomain(
  device: Device,
  domain: Domain,
  pasid: number | undefined,
  context: AttachContext,
  options: AttachOptions = {},
): void {
  if (domain.iommu !== device.iommu) {
    fail(
      'EINVAL',
      `domain ${domain.id} belongs to ${domain.iommu.id}; ${device.id} is behind ${device.iommu.id}.`,
      { reason: 'foreign-domain' },
    );
  }
  if (domain.type === 'sva')
    fail('EINVAL', `SVA domain ${domain.id} is attached by binding a process, not directly.`, {
      reason: 'sva-domain',
    });
  if (pasid === undefined) {
    const current = device.ridDomain;
    if (current === domain) return;
    if (current.type !== 'blocked' && domain.type !== 'blocked' && !options.replace) {
      fail('EBUSY', `${device.id} is attached to ${current.id}; detach it first or replace it.`, {
        reason: 'attached',
      });
    }
    if (takesFaults(domain)) checkIopfAcquirable(device);
    setRidDomain(device, domain, context);
    return;
  }
  const occupant = device.pasidDomains.get(pasid);
  if (occupant === domain) return;
  const replacing = occupant !== undefined && options.replace === true && occupant.type !== 'sva';
  if (!replacing) checkPasidSlot(device, pasid);
  const { model, profile } = device.iommu;
  if (domain.type === 'blocked')
    fail('EINVAL', 'to block a PASID, detach it.', { reason: 'blocked-at-pasid' });
  if (domain.type === 'identity' && !model.identityAtPasid) {
    fail('EOPNOTSUPP', `${model.label} cannot attach an identity domain at a PASID.`, {
      reason: 'unsupported-at-pasid',
    });
  }
  if (domain.type === 'nested' && !model.nestedAtPasid) {
    fail('EOPNOTSUPP', `${model.label} cannot attach a nested domain at a PASID.`, {
      reason: 'unsupported-at-pasid',
    });
  }
  if (domain.type === 'dma' && profile.dmaDomainAtPasid === 'aux' && !device.features.has('AUX')) {
    fail(
      'EPERM',
      `under ${profile.name} a DMA domain reaches a PASID only as an auxiliary domain: enable AUX on ${device.id} first.`,
      {
        reason: 'aux-not-enabled',
      },
    );
  }
  if (takesFaults(domain)) checkIopfAcquirable(device);
  if (replacing) replacePasidDomain(device, pasid, occupant, domain, context);
  else setPasidDomain(device, pasid, domain, context);
}

export function detachDomain(device: Device, pasid: number | undefined, context: AttachContext): void {
  if (pasid === undefined) {
    if (device.ridDomain.type === 'blocked')
      fail('ENOENT', `${device.id} has no domain attached at its requester ID.`, { reason: 'not-attached' });
    setRidDomain(device, device.iommu.blockedDomain, context);
    return;
  }
  const domain = device.pasidDomains.get(pasid);
  if (!domain)
    fail('ENOENT', `${device.id} has no domain attached at PASID ${pasid}.`, { reason: 'not-attached' });
  if (domain.type === 'sva')
    fail('EINVAL', `PASID ${pasid} of ${device.id} is an SVA bond; unbind the process instead.`, {
      reason: 'sva-domain',
    });
  clearPasidDomain(device, pasid, context);
}

/** Throws unless `pasid` is a PASID this device could have a domain at, and that slot is free. */
export function checkPasidSlot(device: Device, pasid: number): void {
  if (device.maxPasids === 0) fail('EINVAL', `${device.id} has no PASID capability.`, { reason: 'no-pasid' });
  if (!Number.isInteger(pasid) || pasid <= 0 || pasid >= device.maxPasids) {
    fail(
      'EINVAL',
      `PASID ${pasid} must be 1..${device.maxPasids - 1} for ${device.id} (0 is IOMMU_NO_PASID).`,
      { reason: 'bad-pasid' },
    );
  }
  const occupant = device.pasidDomains.get(pasid);
  if (occupant)
    fail('EBUSY', `PASID ${pasid} of ${device.id} is taken by ${occupant.id}.`, { reason: 'pasid-busy' });
}

/** mainline: a domain with its own fault handler switches I/O page faults on while attached. */
export function takesFaults(domain: Domain): boolean {
  return domain.iommu.profile.implicitIopfOnAttach && domain.faultHandler !== null;
}

/** Installs a domain at a PASID (already checked). Used by attachDomain and by SVA bind. */
export function setPasidDomain(device: Device, pasid: number, domain: Domain, context: AttachContext): void {
  device.pasidDomains.set(pasid, domain);
  domain.attachments.add({ device, pasid });
  if (takesFaults(domain)) acquireIopf(device, context.bus, domain.id, pasid);
  context.bus.emit({ kind: 'domain.attached', device: device.id, domain: domain.id, pasid });
}

export function clearPasidDomain(device: Device, pasid: number, context: AttachContext): void {
  const domain = device.pasidDomains.get(pasid)!;
  context.onDetach(device, pasid, domain, false);
  device.pasidDomains.delete(pasid);
  removeAttachment(domain, device, pasid);
  device.iommu.flushDeviceAtc(device, pasid, 0, Number.POSITIVE_INFINITY, 'detach');
  if (takesFaults(domain)) releaseIopf(device, context.bus);
  context.bus.emit({ kind: 'domain.detached', device: device.id, domain: domain.id, pasid });
}

/**
 * iommu_replace_device_pasid: the new domain takes the PASID in one step, with no blocked moment between,
 * so the device keeps using the PASID (no Stop Marker) and the IOPF reference passes from one to the other.
 */
function replacePasidDomain(
  device: Device,
  pasid: number,
  previous: Domain,
  domain: Domain,
  context: AttachContext,
): void {
  context.onDetach(device, pasid, previous, true);
  device.pasidDomains.set(pasid, domain);
  removeAttachment(previous, device, pasid);
  domain.attachments.add({ device, pasid });
  device.iommu.flushDeviceAtc(device, pasid, 0, Number.POSITIVE_INFINITY, 'detach');
  if (takesFaults(domain)) acquireIopf(device, context.bus, domain.id, pasid);
  if (takesFaults(previous)) releaseIopf(device, context.bus);
  context.bus.emit({ kind: 'domain.detached', device: device.id, domain: previous.id, pasid });
  context.bus.emit({ kind: 'domain.attached', device: device.id, domain: domain.id, pasid });
}

function setRidDomain(device: Device, domain: Domain, context: AttachContext): void {
  const previous = device.ridDomain;
  if (previous.type !== 'blocked') context.onDetach(device, null, previous, domain.type !== 'blocked');
  removeAttachment(previous, device, NO_PASID);
  device.ridDomain = domain;
  if (domain.type !== 'blocked') domain.attachments.add({ device, pasid: NO_PASID });
  device.iommu.flushDeviceAtc(device, NO_PASID, 0, Number.POSITIVE_INFINITY, 'detach');
  // Take the new reference before dropping the old, so replacing one fault-capable domain by another
  // does not switch faults off in between.
  if (takesFaults(domain)) acquireIopf(device, context.bus, domain.id, null);
  if (takesFaults(previous)) releaseIopf(device, context.bus);
  if (previous.type !== 'blocked')
    context.bus.emit({ kind: 'domain.detached', device: device.id, domain: previous.id, pasid: null });
  if (domain.type !== 'blocked')
    context.bus.emit({ kind: 'domain.attached', device: device.id, domain: domain.id, pasid: null });
}

function removeAttachment(domain: Domain, device: Device, pasid: number): void {
  const attachment = domain.attachment(device, pasid);
  if (attachment) domain.attachments.delete(attachment);
}
