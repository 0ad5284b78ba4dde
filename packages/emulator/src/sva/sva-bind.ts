/**
 * SVA bind and unbind (iommu_sva_bind_device / iommu_sva_unbind_device, drivers/iommu/iommu-sva.c,
 * reference §3):
 * 1. one PASID per process (mm), from the global space, allocated at the first bind: a PASID at or above
 *    the device's limit is -EOVERFLOW, an exhausted space -ENOSPC;
 * 2. an existing bond of the same process takes another reference; the PASID slot held by anything else
 *    is -EBUSY;
 * 3. the process's SVA domain on this IOMMU is reused, or a new one is allocated and attached at the PASID.
 * Unbind drops a reference and detaches at zero. The PASID is freed only when the process is gone
 * (mm_pasid_drop), not at unbind.
 * Under seed-5.13 and proposal the SVA feature must be enabled first (-ENODEV otherwise, as arm-smmu-v3's
 * 5.13 bind); under mainline attaching the SVA domain switches I/O page faults on (attach.ts).
 * fail-nth (injection/fail-nth.ts) can make the two allocations fail, in the kernel's order: the PASID
 * (the profile's errno, nothing taken) and then a new SVA domain (-ENOMEM from iommu_sva_domain_alloc,
 * after the mm got its PASID, which it keeps until it is gone, as the kernel's mm does).
 */
import type { Device, SvaBond } from '../device/device';
import { checkIopfAcquirable } from '../device/features';
import { fail } from '../errors';
import { type AttachContext, checkPasidSlot, clearPasidDomain, setPasidDomain } from '../domain/attach';
import { SvaDomain } from '../domain/sva-domain';
import type { Process } from '../process/process';
import type { PasidAllocator } from './pasid-allocator';
import { FAIL_DOMAIN, FAIL_PASID, type FailNth } from '../injection/fail-nth';

export interface SvaContext extends AttachContext {
  pasids: PasidAllocator;
  failNth: FailNth;
  /** Allocates a domain tag and a name for a new SVA domain. */
  newDomainIdentity(): { id: string; tag: number };
}

export function svaBind(device: Device, process: Process, context: SvaContext): SvaBond {
  const { iommu } = device;
  if (process.exiting) fail('ESRCH', `process ${process.id} has exited.`, { reason: 'exited' });
  const existing = device.bonds.get(process.id);
  if (existing) {
    existing.refs++;
    return existing;
  }
  if (iommu.profile.featureCalls) {
    if (!device.features.has('SVA'))
      fail('ENODEV', `SVA is not enabled on ${device.id}; enable the SVA feature first.`, {
        reason: 'sva-not-enabled',
      });
  } else {
    if (!iommu.caps.sva) fail('EOPNOTSUPP', `${iommu.id} does not support SVA.`, { reason: 'no-sva' });
    if (device.maxPasids === 0)
      fail('EOPNOTSUPP', `${device.id} has no PASID capability.`, { reason: 'no-pasid' });
    checkIopfAcquirable(device);
  }
  let pasid = process.pasid;
  if (pasid !== undefined) {
    if (pasid >= device.maxPasids) {
      fail(
        'EOVERFLOW',
        `process ${process.id} has PASID ${pasid}, beyond ${device.id}'s ${device.maxPasids} PASIDs.`,
        { reason: 'pasid-too-large' },
      );
    }
    checkPasidSlot(device, pasid);
  } else {
    const candidate = context.pasids.lowestFree(device.maxPasids);
    if (candidate === undefined)
      fail('ENOSPC', `no free PASID below ${device.maxPasids} for ${device.id}.`, {
        reason: 'pasid-space-exhausted',
      });
    // The PASID the mm would get must be free on this device too (iommu_attach_device_pasid: -EBUSY).
    checkPasidSlot(device, candidate);
  }

  // Every check passed: commit.
  if (pasid === undefined) {
    if (!context.failNth.allocates(FAIL_PASID))
      fail(
        iommu.profile.pasidAllocFailure,
        `allocating a PASID for process ${process.id} failed (fail-nth).`,
        {
          reason: 'fail-nth',
        },
      );
    pasid = context.pasids.allocate(device.maxPasids)!;
    process.pasid = pasid;
    context.bus.emit({ kind: 'pasid.allocated', process: process.id, pasid });
  }
  // Linux walks the mm's SVA domains (iommu_mm->sva_domains) and keeps the one that attaches, i.e. the one
  // on this IOMMU; the IOMMU's map from process to SVA domain finds it without a walk.
  let domain = iommu.svaDomains.get(process);
  if (!domain) {
    if (!context.failNth.allocates(FAIL_DOMAIN))
      fail('ENOMEM', `allocating the SVA domain of process ${process.id} on ${iommu.id} failed (fail-nth).`, {
        reason: 'fail-nth',
      });
    const { id, tag } = context.newDomainIdentity();
    domain = new SvaDomain(id, iommu, tag, process);
    // domain->iopf_handler = iommu_sva_iopf_handler
    domain.faultHandler = iommu.svaHandler;
    iommu.domains.set(id, domain);
    iommu.svaDomains.set(process, domain);
    context.bus.emit({ kind: 'domain.created', domain: id, iommu: iommu.id, type: 'sva' });
  }
  setPasidDomain(device, pasid, domain, context);
  const bond: SvaBond = { process, pasid, domain, refs: 1 };
  device.bonds.set(process.id, bond);
  process.svaBonds++;
  context.bus.emit({ kind: 'sva.bound', device: device.id, process: process.id, pasid, domain: domain.id });
  return bond;
}

export function svaUnbind(device: Device, process: Process, context: SvaContext): void {
  const bond = device.bonds.get(process.id);
  if (!bond) fail('ENOENT', `${device.id} is not bound to process ${process.id}.`, { reason: 'not-bound' });
  if (--bond.refs > 0) return;
  const { iommu } = device;
  clearPasidDomain(device, bond.pasid, context);
  device.bonds.delete(process.id);
  process.svaBonds--;
  if (bond.domain.attachments.size === 0) {
    bond.domain.free();
    iommu.domains.delete(bond.domain.id);
    iommu.svaDomains.delete(process);
    context.bus.emit({ kind: 'domain.destroyed', domain: bond.domain.id, iommu: iommu.id });
  }
  context.bus.emit({ kind: 'sva.unbound', device: device.id, process: process.id, pasid: bond.pasid });
  if (process.exiting) dropProcessPasid(process, context);
}

/** mm_pasid_drop: once the process is gone and no bond holds it, its PASID returns to the global space. */
export function dropProcessPasid(process: Process, context: SvaContext): void {
  if (process.pasid === undefined || process.svaBonds > 0) return;
  context.pasids.free(process.pasid);
  context.bus.emit({ kind: 'pasid.freed', process: process.id, pasid: process.pasid });
  process.pasid = undefined;
}
