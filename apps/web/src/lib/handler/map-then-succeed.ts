/**
 * What a VMM does before it answers SUCCESS: make the faulting pages present where the device translates
 * them. SUCCESS alone only tells the device to retry; without the page it faults again. A DMA or stage-2
 * domain gets a 4 KiB mapping per faulting page (the IOVA is the guest's physical address); an SVA domain's
 * process gets the page populated (what handle_mm_fault would do). A guest's stage 1 is the guest's to fix.
 */
import type { PendingFault, SystemView } from '@iommu-lab/client';

export const PAGE_BYTES = 4096;

export type MapStep =
  | { kind: 'map'; domain: string; iova: string; prot: 'r' | 'rw' }
  | { kind: 'populate'; process: string; address: string };

export type MapPlan = { steps: MapStep[] } | { refused: string };

/** The page of an address, as the API's hex. */
export function pageOf(address: string): string {
  return `0x${(BigInt(address) & ~BigInt(PAGE_BYTES - 1)).toString(16)}`;
}

export function planMapThenSucceed(
  group: Pick<PendingFault, 'device' | 'pasid' | 'stage' | 'faults'>,
  system: SystemView,
): MapPlan {
  const device = system.devices.find((d) => d.id === group.device);
  if (!device) return { refused: `device ${group.device} is not in this lab` };
  const bond = group.pasid === null ? undefined : device.bonds.find((b) => b.pasid === group.pasid);
  const domainId =
    group.pasid === null ? device.domain : device.pasids.find((p) => p.pasid === group.pasid)?.domain;
  const domain = system.domains.find((d) => d.id === domainId);
  const pages = [...new Set(group.faults.map((f) => pageOf(f.address)))];
  const prot = (address: string) =>
    group.faults.some((f) => pageOf(f.address) === address && /w/.test(f.perm)) ? 'rw' : 'r';

  const process = bond?.process ?? domain?.process;
  if (process) return { steps: pages.map((address) => ({ kind: 'populate', process, address })) };
  if (!domain)
    return { refused: `${group.device}${group.pasid === null ? '' : ` PASID ${group.pasid}`} has no domain` };
  if (domain.type === 'nested') {
    if (group.stage === 1) return { refused: 'a stage-1 fault is the guest’s to map, in its own page table' };
    if (!domain.parent) return { refused: `nested domain ${domain.id} has no stage-2 parent` };
    return { steps: pages.map((iova) => ({ kind: 'map', domain: domain.parent!, iova, prot: prot(iova) })) };
  }
  if (domain.type !== 'dma') return { refused: `a ${domain.type} domain is not mapped page by page` };
  return { steps: pages.map((iova) => ({ kind: 'map', domain: domain.id, iova, prot: prot(iova) })) };
}
