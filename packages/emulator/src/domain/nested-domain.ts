/**
 * A nested domain: stage 1 owned by a guest (its table maps guest IOVA or guest VA to guest physical
 * addresses) over a stage-2 DMA domain owned by the host (guest physical to host physical). The result is
 * stage 2 of stage 1, and a fault says which stage failed (reference §4, §7).
 *
 * Simplification: the guest's stage-1 table pages are not themselves translated through stage 2 (they are
 * taken as resident), though the walk is charged the 2D cost of doing so.
 */
import { ENTRIES_PER_TABLE, type PageSizeName, formatAddress } from '../address';
import { fail } from '../errors';
import { FAULT_ADDRESS_SIZE, FAULT_TRANSLATION } from '../iommu/fault-kind';
import type { Iommu } from '../iommu/iommu';
import type { Translation } from '../iommu/translation';
import { PageTable, type RemovedLeaf, newWalkResult } from '../pagetable/page-table';
import { PERM_PRIV, PERM_READ, PERM_RWX, PERM_WRITE } from '../pagetable/permissions';
import type { DmaDomain } from './dma-domain';
import { Domain } from './domain';

export class NestedDomain extends Domain {
  readonly stage1: PageTable;
  private readonly scratch = newWalkResult();

  constructor(
    id: string,
    iommu: Iommu,
    tag: number,
    readonly parent: DmaDomain,
  ) {
    super(id, 'nested', iommu, tag, 1, ENTRIES_PER_TABLE ** iommu.levels);
    this.stage1 = new PageTable({ levels: iommu.levels, pageSizes: iommu.caps.pageSizes });
  }

  /**
   * 2D walk. Each stage-1 entry read costs a stage-2 walk of its table page plus the read itself, and the
   * output address needs one more stage-2 walk: (n1 + 1) × (n2 + 1) − 1 reads when both are present.
   */
  walk(page: number, out: Translation): boolean {
    const stage2Levels = this.parent.pageTable.levels;
    if (!this.stage1.walk(page, this.scratch)) {
      out.walkAccesses = this.scratch.levelsWalked * (stage2Levels + 1);
      out.fault = FAULT_TRANSLATION;
      out.faultStage = 1;
      return false;
    }
    const stage1Reads = this.scratch.levelsWalked * (stage2Levels + 1);
    const guestFrame = this.scratch.pfn;
    const perms1 = this.scratch.perms;
    const leafLevel1 = this.scratch.leafLevel;
    out.permsStage1 = perms1;
    out.stage2InputPage = guestFrame;
    if (guestFrame >= this.parent.pageLimit) {
      out.walkAccesses = stage1Reads;
      out.fault = FAULT_ADDRESS_SIZE;
      out.faultStage = 2;
      return false;
    }
    const found = this.parent.pageTable.walk(guestFrame, this.scratch);
    out.walkAccesses = stage1Reads + this.scratch.levelsWalked;
    if (!found) {
      out.fault = FAULT_TRANSLATION;
      out.faultStage = 2;
      return false;
    }
    out.permsStage2 = this.scratch.perms;
    out.pfn = this.scratch.pfn;
    // Stage 2 has no privilege level: privileged-only comes from stage 1 alone.
    out.perms = (perms1 & this.scratch.perms & PERM_RWX) | (perms1 & PERM_PRIV);
    // The cached entry can be no larger than the smaller of the two leaves.
    out.leafLevel = Math.min(leafLevel1, this.scratch.leafLevel);
    return true;
  }

  /** The guest maps its stage 1: guest IOVA/VA `page` to guest physical `guestPage`. */
  map(page: number, guestPage: number, pages: number, perms: number, pageSize?: PageSizeName): void {
    if ((perms & (PERM_READ | PERM_WRITE)) === 0)
      fail('EINVAL', 'a stage-1 mapping needs read or write permission.', { reason: 'no-access' });
    if (guestPage + pages > this.parent.pageLimit) {
      fail(
        'ERANGE',
        `guest physical ${formatAddress(guestPage)}+${pages} pages is beyond stage 2's input range.`,
        { reason: 'out-of-range' },
      );
    }
    this.stage1.map(page, guestPage, pages, perms, pageSize);
  }

  /** The guest unmaps stage 1 and invalidates (as a vIOMMU cache invalidation would). */
  unmap(page: number, pages: number): RemovedLeaf[] {
    const removed = this.stage1.unmap(page, pages);
    this.iommu.flushDomain(this, page, page + pages, 'guest-unmap');
    return removed;
  }
}
