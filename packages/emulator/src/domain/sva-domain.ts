/**
 * An SVA domain: the IOMMU walks a process's own CPU page table (first level / stage 1, CPU format), so a
 * device shares the process's virtual addresses. It listens to the process as an MMU notifier: a change to
 * the process's mappings invalidates the IOTLB and ATC entries it cached, and the mm's release stops all
 * translation (arm_smmu_mm_release / intel_mm_release install an empty context, reference §3).
 */
import { FAULT_TRANSLATION } from '../iommu/fault-kind';
import type { Iommu } from '../iommu/iommu';
import type { Translation } from '../iommu/translation';
import { newWalkResult } from '../pagetable/page-table';
import type { MmuNotifier, Process } from '../process/process';
import { Domain } from './domain';

export class SvaDomain extends Domain implements MmuNotifier {
  /** The mm was released: every translation faults from now on. */
  released = false;
  private readonly scratch = newWalkResult();

  constructor(
    id: string,
    iommu: Iommu,
    tag: number,
    readonly process: Process,
  ) {
    super(id, 'sva', iommu, tag, 1, process.pageTable.pageLimit);
    process.addNotifier(this);
  }

  walk(page: number, out: Translation): boolean {
    const found = !this.released && this.process.pageTable.walk(page, this.scratch);
    out.walkAccesses = this.released ? 0 : this.scratch.levelsWalked;
    if (!found) {
      out.fault = FAULT_TRANSLATION;
      out.faultStage = 1;
      return false;
    }
    out.pfn = this.scratch.pfn;
    out.perms = this.scratch.perms;
    out.leafLevel = this.scratch.leafLevel;
    return true;
  }

  invalidateRange(_process: Process, startPage: number, endPage: number): void {
    this.iommu.flushDomain(this, startPage, endPage, 'mmu-notifier');
  }

  release(): void {
    this.released = true;
    this.iommu.flushDomain(this, 0, Number.POSITIVE_INFINITY, 'mm-release');
  }

  /** The last user is gone: stop listening to the process. */
  free(): void {
    this.process.removeNotifier(this);
  }
}
