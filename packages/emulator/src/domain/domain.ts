/**
 * Domains: what a device (or a device + PASID) is attached to, and so how its DMA is translated.
 * blocked: nothing gets through; identity: IOVA = physical address; dma: explicit map/unmap (dma-domain.ts);
 * sva: a process's CPU page table (sva-domain.ts); nested: a guest's stage 1 over a stage-2 DMA domain
 * (nested-domain.ts). Each translating domain has a numeric tag that, with the PASID, tags its IOTLB entries.
 */
import { iotlbTag } from '../cache/translation-cache';
import type { Device } from '../device/device';
import type { Iommu } from '../iommu/iommu';
import type { FaultHandler } from '../fault/handlers/fault-handler';
import type { Translation } from '../iommu/translation';

export type DomainType = 'blocked' | 'identity' | 'dma' | 'sva' | 'nested';

/** PASID value of an attachment by requester ID alone (IOMMU_NO_PASID in the kernel is 0; -1 here keeps 0 usable as a tag). */
export const NO_PASID = -1;

export interface Attachment {
  device: Device;
  /** NO_PASID for the requester ID, else the PASID. */
  pasid: number;
}

export abstract class Domain {
  readonly attachments = new Set<Attachment>();
  /** Nested domains that use this one as their stage 2 (only a DMA nest parent has any). */
  readonly nestedChildren = new Set<Domain>();

  /**
   * The domain's own fault handler (domain->iopf_handler): the SVA handler of an SVA domain, an iommufd
   * fault queue (mainline) or a guest's queue (proposal) on a nested domain; null when faults in this
   * domain have no handler of their own.
   */
  faultHandler: FaultHandler | null = null;
  /** Whether translations of this domain are cached in the IOTLB and ATC (a field: read on the hot path). */
  readonly translates: boolean;
  /** IOTLB tag of requests without PASID, computed once: the hashing is off the common hot path. */
  readonly noPasidIotlbTag: number;

  constructor(
    readonly id: string,
    readonly type: DomainType,
    readonly iommu: Iommu,
    /** Distinct per domain in a system; IOTLB tag = tag and PASID. */
    readonly tag: number,
    /** Stage (1 = first level / stage 1, 2 = second level / stage 2) a fault in this domain's own tables reports. */
    readonly stage: 1 | 2,
    /** Input pages must be below this; beyond it is an address-size fault. */
    readonly pageLimit: number,
  ) {
    this.translates = type !== 'blocked' && type !== 'identity';
    this.noPasidIotlbTag = iotlbTag(tag, NO_PASID);
  }

  /**
   * Walks this domain's tables for one page. On success fills pfn, perms, leafLevel and walkAccesses;
   * on failure sets fault and faultStage. Hot path: no allocation.
   */
  abstract walk(page: number, out: Translation): boolean;

  attachment(device: Device, pasid: number): Attachment | undefined {
    for (const attachment of this.attachments)
      if (attachment.device === device && attachment.pasid === pasid) return attachment;
    return undefined;
  }
}

/** Nothing gets through; every access faults (or aborts silently, on SMMUv3). */
export class BlockedDomain extends Domain {
  constructor(id: string, iommu: Iommu, tag: number) {
    super(id, 'blocked', iommu, tag, 1, 0);
  }

  walk(): boolean {
    return false;
  }
}

/** Pass-through: the IOVA is the physical address. */
export class IdentityDomain extends Domain {
  constructor(id: string, iommu: Iommu, tag: number) {
    super(id, 'identity', iommu, tag, 1, 2 ** 52);
  }

  walk(page: number, out: Translation): boolean {
    out.pfn = page;
    out.walkAccesses = 0;
    return true;
  }
}
