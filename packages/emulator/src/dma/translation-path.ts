/**
 * The path one page of a DMA takes to a physical address: the device's ATC first (for devices with ATS),
 * on a miss an ATS Translation Request to the IOMMU, which looks in its IOTLB and walks on a miss; devices
 * without ATS send untranslated requests straight to the IOMMU. The cost of each step comes from the
 * latency model. Hot path: no allocation.
 */
import { type CacheHit, atcTag } from '../cache/translation-cache';
import type { Device } from '../device/device';
import type { LatencyModel } from '../latency/latency-model';
import { PERMISSION_OK, checkPermission } from '../pagetable/permissions';
import { FAULT_NONE } from '../iommu/fault-kind';
import { SOURCE_ATC, SOURCE_IDENTITY, type Translation } from '../iommu/translation';

export function translateForDevice(
  device: Device,
  pasid: number,
  page: number,
  accessBit: number,
  privileged: boolean,
  latency: LatencyModel,
  out: Translation,
  hit: CacheHit,
): boolean {
  const atc = device.atc;
  out.atsRequest = false;
  if (atc !== null) {
    // An ATC entry whose permissions do not allow this access sends the device back to the IOMMU.
    if (
      atc.lookup(atcTag(pasid), page, hit) &&
      checkPermission(hit.perms, accessBit, privileged) === PERMISSION_OK
    ) {
      out.pfn = hit.pfn;
      out.perms = hit.perms;
      out.leafLevel = hit.leafLevel;
      out.source = SOURCE_ATC;
      out.walkAccesses = 0;
      out.fault = FAULT_NONE;
      out.domain = null;
      out.costNs = latency.atcHitNs;
      return true;
    }
    out.atsRequest = true;
  }
  const ok = device.iommu.translate(device, pasid, page, accessBit, privileged, out);
  if (out.source === SOURCE_IDENTITY) {
    out.costNs = 0;
    return ok;
  }
  out.costNs =
    (out.atsRequest ? latency.atcHitNs + latency.atsRoundTripNs : 0) +
    latency.iotlbHitNs +
    out.walkAccesses * latency.walkAccessNs;
  if (ok && atc !== null) atc.insert(atcTag(pasid), page, out.leafLevel, out.pfn, out.perms);
  return ok;
}
