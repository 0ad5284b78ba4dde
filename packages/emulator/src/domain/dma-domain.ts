/**
 * A DMA (paging) domain: an IO page table managed by explicit map and unmap calls, as the DMA API or VFIO
 * does. Mapped frames are referenced and pinned for as long as they are mapped; unmap invalidates the
 * IOTLB and ATCs, then unpins the frames so they can be reused.
 */
import { ENTRIES_PER_TABLE, type PageSizeName, PAGE_SIZES, formatAddress, pagesPerEntry } from '../address';
import { fail } from '../errors';
import { FAULT_TRANSLATION } from '../iommu/fault-kind';
import type { Iommu } from '../iommu/iommu';
import type { Translation } from '../iommu/translation';
import type { PhysicalMemory } from '../memory/physical-memory';
import { PageTable, type RemovedLeaf, newWalkResult } from '../pagetable/page-table';
import { PERM_READ, PERM_WRITE } from '../pagetable/permissions';
import { Domain } from './domain';

export class DmaDomain extends Domain {
  readonly pageTable: PageTable;
  private readonly scratch = newWalkResult();

  constructor(
    id: string,
    iommu: Iommu,
    tag: number,
    stage: 1 | 2,
    /** Allocated as the stage 2 of nested domains (IOMMU_HWPT_ALLOC_NEST_PARENT). */
    readonly nestParent: boolean,
    private readonly memory: PhysicalMemory,
  ) {
    super(id, 'dma', iommu, tag, stage, ENTRIES_PER_TABLE ** iommu.levels);
    this.pageTable = new PageTable({ levels: iommu.levels, pageSizes: iommu.caps.pageSizes });
  }

  walk(page: number, out: Translation): boolean {
    const found = this.pageTable.walk(page, this.scratch);
    out.walkAccesses = this.scratch.levelsWalked;
    if (!found) {
      out.fault = FAULT_TRANSLATION;
      out.faultStage = this.stage;
      return false;
    }
    out.pfn = this.scratch.pfn;
    out.perms = this.scratch.perms;
    out.leafLevel = this.scratch.leafLevel;
    return true;
  }

  /**
   * Maps `pages` pages at `page`. With `pfn` the mapping takes a reference on those frames; without, it
   * allocates frames (contiguous and aligned so large leaves can be used). Returns the first frame.
   * Refuses before changing anything.
   */
  map(page: number, pfn: number | undefined, pages: number, perms: number, pageSize?: PageSizeName): number {
    if ((perms & (PERM_READ | PERM_WRITE)) === 0) {
      fail(
        'EINVAL',
        'a mapping needs read or write permission (a VT-d second-level entry is present only with R or W).',
        {
          reason: 'no-access',
        },
      );
    }
    this.pageTable.assertMappable(page, pages, pageSize);
    let first: number;
    if (pfn === undefined) {
      first = this.allocateFrames(page, pages, pageSize);
    } else {
      if (pfn < 0 || pfn + pages > this.memory.frames) {
        fail(
          'ERANGE',
          `physical range ${formatAddress(pfn)}+${pages} pages is beyond memory (${this.memory.frames} frames).`,
          {
            reason: 'out-of-range',
          },
        );
      }
      if (pageSize !== undefined && pfn % pagesPerEntry(PAGE_SIZES[pageSize]) !== 0) {
        fail('EINVAL', `a ${pageSize} mapping needs a physical address aligned to ${pageSize}.`, {
          reason: 'misaligned',
        });
      }
      first = pfn;
      for (let i = 0; i < pages; i++) this.memory.get(first + i);
    }
    for (let i = 0; i < pages; i++) this.memory.pin(first + i);
    this.pageTable.map(page, first, pages, perms, pageSize);
    return first;
  }

  /** Unmaps a range that is wholly mapped, invalidates caches, then releases the frames. */
  unmap(page: number, pages: number): RemovedLeaf[] {
    const removed = this.pageTable.unmap(page, pages);
    this.iommu.flushDomain(this, page, page + pages, 'unmap');
    for (const leaf of removed) {
      for (let i = 0; i < leaf.pages; i++) {
        this.memory.unpin(leaf.pfn + i);
        this.memory.put(leaf.pfn + i);
      }
    }
    return removed;
  }

  /** Removes every mapping (domain teardown). */
  clear(): void {
    const leaves: [number, number][] = [];
    this.pageTable.forEachLeaf((page, _pfn, pages) => leaves.push([page, pages]));
    for (const [page, pages] of leaves) this.unmap(page, pages);
  }

  private allocateFrames(page: number, pages: number, pageSize: PageSizeName | undefined): number {
    // Align the frames like the IOVA so the largest leaves fit; fall back to any frames unless a size is forced.
    let align = pageSize === undefined ? 1 : pagesPerEntry(PAGE_SIZES[pageSize]);
    if (pageSize === undefined) {
      for (let level = 3; level > 1; level--) {
        const span = pagesPerEntry(level);
        if (this.pageTable.supportsLeafLevel(level) && page % span === 0 && pages >= span) {
          align = span;
          break;
        }
      }
    }
    const first =
      this.memory.allocateContiguous(pages, align) ??
      (pageSize === undefined && align > 1 ? this.memory.allocateContiguous(pages, 1) : undefined);
    if (first === undefined)
      fail('ENOMEM', `no ${pages} contiguous free frames for the mapping.`, { reason: 'out-of-memory' });
    return first;
  }
}
