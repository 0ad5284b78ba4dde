/**
 * A CPU address space (an mm): VMAs with permissions, an x86-64 style page table filled on demand like
 * handle_mm_fault, and the calls that take pages away again (munmap, mprotect, reclaim, exit). Every such
 * change is told to the registered MMU notifiers, which is how an IOMMU bound to this process through SVA
 * learns to drop its IOTLB and ATC entries (mmu_notifier invalidate_range / release).
 */
import type { FaultFlow } from '../flow/fault-flow';
import { PAGE_SIZE, formatAddress } from '../address';
import { fail } from '../errors';
import type { PhysicalMemory } from '../memory/physical-memory';
import { PageTable, newWalkResult } from '../pagetable/page-table';
import { PERM_RWX, formatProt } from '../pagetable/permissions';
import type { EventBus } from '../sim/event-bus';

export interface Vma {
  startPage: number;
  /** First page after the VMA. */
  endPage: number;
  /** PERM_READ | PERM_WRITE | PERM_EXEC. */
  prot: number;
}

/** What an IOMMU registers on a process it translates for. */
export interface MmuNotifier {
  invalidateRange(process: Process, startPage: number, endPage: number): void;
  /** The mm is going away: stop translating for it. */
  release(process: Process): void;
}

/**
 * Outcome of handle_mm_fault. 'present': nothing to do; 'minor': a zeroed page was allocated;
 * 'major': a reclaimed page was read back; the rest are errors (VM_FAULT_ERROR in the kernel).
 */
export type MmFaultOutcome = 'present' | 'minor' | 'major' | 'no-vma' | 'access' | 'oom' | 'exiting';

export function isMmFaultError(outcome: MmFaultOutcome): boolean {
  return outcome !== 'present' && outcome !== 'minor' && outcome !== 'major';
}

/** Default base of mmap when the caller gives no address (page number of 0x10000000). */
const MMAP_BASE_PAGE = 0x10000;

/** What a process tells the fault-flow recorder (flow/flow-recorder.ts). */
export interface PageFlows {
  resolved(flow: FaultFlow, space: object, page: number, pfn: number): void;
  frameGone(space: object, page: number, pfn: number, because: 'unmapped' | 'reclaimed'): void;
}

export class Process {
  readonly vmas: Vma[] = [];
  readonly pageTable: PageTable;
  /** Highest user page + 1: the lower canonical half (2^47 bytes with 4 levels). */
  readonly userPageLimit: number;
  /** Reclaimed pages and the bytes they held (null when the page was never written). */
  private readonly swapped = new Map<number, Uint8Array | null>();
  private readonly notifiers = new Set<MmuNotifier>();
  private readonly scratch = newWalkResult();
  /** The frame the last handle_mm_fault brought in. */
  private resolvedPfn = -1;
  exiting = false;
  /** The mm's PASID (mm->pasid), allocated at the first SVA bind and kept until the mm is gone. */
  pasid: number | undefined;
  /** SVA bonds (device, process) that keep the mm and its PASID alive (mmgrab by the SVA domain). */
  svaBonds = 0;
  readonly faults = { minor: 0, major: 0, errors: 0 };
  /** Told which fault flow brought a page in and when pages go away, so a later flow can name the one it replaces. */
  pageFlows: PageFlows | null = null;

  constructor(
    readonly id: string,
    readonly pid: number,
    private readonly memory: PhysicalMemory,
    private readonly bus: EventBus,
    levels: 4 | 5,
  ) {
    this.pageTable = new PageTable({ levels });
    this.userPageLimit = this.pageTable.pageLimit / 2;
  }

  get residentPages(): number {
    return this.pageTable.mappedPages;
  }

  get swappedPages(): number {
    return this.swapped.size;
  }

  findVma(page: number): Vma | undefined {
    for (const vma of this.vmas) {
      if (page < vma.startPage) return undefined;
      if (page < vma.endPage) return vma;
    }
    return undefined;
  }

  addNotifier(notifier: MmuNotifier): void {
    this.notifiers.add(notifier);
  }

  removeNotifier(notifier: MmuNotifier): void {
    this.notifiers.delete(notifier);
  }

  /** Creates a VMA. Without `startPage`, places it after the highest existing VMA. */
  mmap(startPage: number | undefined, pages: number, prot: number): Vma {
    this.checkAlive();
    if ((prot & ~PERM_RWX) !== 0)
      fail('EINVAL', `a VMA takes r, w and x only, not ${formatProt(prot)}.`, { reason: 'bad-prot' });
    const start = startPage ?? Math.max(MMAP_BASE_PAGE, this.vmas.at(-1)?.endPage ?? 0);
    this.checkUserRange(start, pages);
    const clash = this.vmas.find((vma) => vma.startPage < start + pages && start < vma.endPage);
    if (clash) {
      fail(
        'EEXIST',
        `[${formatAddress(start)}, ${formatAddress(start + pages)}) overlaps the VMA at ${formatAddress(clash.startPage)}.`,
        {
          reason: 'overlap',
        },
      );
    }
    const vma: Vma = { startPage: start, endPage: start + pages, prot };
    const at = this.vmas.findIndex((other) => other.startPage > start);
    this.vmas.splice(at < 0 ? this.vmas.length : at, 0, vma);
    this.bus.emit({
      kind: 'process.mmap',
      process: this.id,
      address: formatAddress(start),
      size: pages * PAGE_SIZE,
      prot: formatProt(prot),
    });
    return vma;
  }

  /** Removes mappings in the range, as munmap(2) does; unmapped parts of the range are not an error. */
  munmap(startPage: number, pages: number): void {
    this.checkAlive();
    this.checkUserRange(startPage, pages);
    const end = startPage + pages;
    this.splitAt(startPage);
    this.splitAt(end);
    for (let i = this.vmas.length - 1; i >= 0; i--) {
      const vma = this.vmas[i]!;
      if (vma.startPage >= startPage && vma.endPage <= end) this.vmas.splice(i, 1);
    }
    this.dropPages(startPage, end, 'unmapped');
    this.bus.emit({
      kind: 'process.munmap',
      process: this.id,
      address: formatAddress(startPage),
      size: pages * PAGE_SIZE,
    });
    this.notifyInvalidate(startPage, end);
  }

  /** Changes permissions; like mprotect(2), every page of the range must be inside a VMA (else ENOMEM). */
  mprotect(startPage: number, pages: number, prot: number): void {
    this.checkAlive();
    this.checkUserRange(startPage, pages);
    if ((prot & ~PERM_RWX) !== 0)
      fail('EINVAL', `a VMA takes r, w and x only, not ${formatProt(prot)}.`, { reason: 'bad-prot' });
    const end = startPage + pages;
    for (let page = startPage; page < end;) {
      const vma = this.findVma(page);
      if (!vma) fail('ENOMEM', `${formatAddress(page)} is not inside a VMA.`, { reason: 'hole' });
      page = vma.endPage;
    }
    this.splitAt(startPage);
    this.splitAt(end);
    for (const vma of this.vmas) if (vma.startPage >= startPage && vma.endPage <= end) vma.prot = prot;
    this.pageTable.protect(startPage, pages, prot);
    this.bus.emit({
      kind: 'process.mprotect',
      process: this.id,
      address: formatAddress(startPage),
      size: pages * PAGE_SIZE,
      prot: formatProt(prot),
    });
    this.notifyInvalidate(startPage, end);
  }

  /**
   * Resolves a fault on one page the way handle_mm_fault does for a remote (device) access: the access
   * must be inside a VMA that allows it; a missing page is allocated (minor) or read back from swap (major).
   */
  handleMmFault(page: number, accessBits: number, flow: FaultFlow | null = null): MmFaultOutcome {
    const outcome = this.resolve(page, accessBits);
    if (flow !== null && (outcome === 'minor' || outcome === 'major'))
      this.pageFlows?.resolved(flow, this, page, this.resolvedPfn);
    if (outcome === 'minor') this.faults.minor++;
    else if (outcome === 'major') this.faults.major++;
    else if (outcome !== 'present') this.faults.errors++;
    if (outcome !== 'present') {
      if (this.bus.wants('process.page-fault')) {
        this.bus.emit({
          kind: 'process.page-fault',
          process: this.id,
          address: formatAddress(page),
          access: formatProt(accessBits),
          outcome,
          flow: flow?.id ?? null,
        });
      }
    }
    return outcome;
  }

  /** Pages of the range not resident (those a populate would allocate a frame for). */
  missingPages(startPage: number, pages: number): number {
    let missing = 0;
    for (let page = startPage; page < startPage + pages; page++)
      if (!this.pageTable.walk(page, this.scratch)) missing++;
    return missing;
  }

  /** Pushes resident pages of the range out to "swap" so the next access faults again (major). */
  reclaim(startPage: number, pages: number): number {
    this.checkAlive();
    this.checkUserRange(startPage, pages);
    const end = startPage + pages;
    let reclaimed = 0;
    for (let page = startPage; page < end; page++) {
      if (!this.pageTable.walk(page, this.scratch) || this.memory.pinCount(this.scratch.pfn) > 0) continue;
      const pfn = this.scratch.pfn;
      this.swapped.set(page, this.memory.snapshot(pfn) ?? null);
      this.pageTable.unmap(page, 1);
      this.pageFlows?.frameGone(this, page, pfn, 'reclaimed');
      this.memory.put(pfn);
      reclaimed++;
    }
    if (reclaimed > 0) {
      this.bus.emit({
        kind: 'process.reclaim',
        process: this.id,
        address: formatAddress(startPage),
        size: pages * PAGE_SIZE,
        pages: reclaimed,
      });
      this.notifyInvalidate(startPage, end);
    }
    return reclaimed;
  }

  /** Writes bytes into the process's memory at a user address, faulting pages in as a CPU store would. */
  write(page: number, offset: number, bytes: Uint8Array, accessBits: number): void {
    for (let done = 0, at = offset; done < bytes.length;) {
      const target = page + Math.floor(at / PAGE_SIZE);
      const outcome = this.handleMmFault(target, accessBits);
      if (isMmFaultError(outcome))
        fail('EFAULT', `store to ${formatAddress(target)} failed: ${outcome}.`, { reason: outcome });
      this.pageTable.walk(target, this.scratch);
      const inPage = at % PAGE_SIZE;
      const chunk = Math.min(PAGE_SIZE - inPage, bytes.length - done);
      this.memory.write(this.scratch.pfn, inPage, bytes.subarray(done, done + chunk));
      done += chunk;
      at += chunk;
    }
  }

  /** The mm is torn down: notifiers are released first (so IOMMUs stop using the table), then pages freed. */
  exit(): void {
    this.checkAlive();
    this.exiting = true;
    for (const notifier of [...this.notifiers]) notifier.release(this);
    this.dropPages(0, this.userPageLimit);
    this.vmas.length = 0;
    this.bus.emit({ kind: 'process.exit', process: this.id });
  }

  private resolve(page: number, accessBits: number): MmFaultOutcome {
    if (this.exiting) return 'exiting';
    const vma = this.findVma(page);
    if (!vma) return 'no-vma';
    if ((accessBits & ~vma.prot) !== 0) return 'access';
    if (this.pageTable.walk(page, this.scratch)) return 'present';
    const pfn = this.memory.allocate();
    if (pfn === undefined) return 'oom';
    this.resolvedPfn = pfn;
    const saved = this.swapped.get(page);
    const major = saved !== undefined;
    if (saved) this.memory.write(pfn, 0, saved);
    this.swapped.delete(page);
    this.pageTable.mapPage(page, pfn, vma.prot);
    return major ? 'major' : 'minor';
  }

  private dropPages(startPage: number, endPage: number, because: 'unmapped' | null = null): void {
    for (const [page] of this.swapped) if (page >= startPage && page < endPage) this.swapped.delete(page);
    const frames: number[] = [];
    this.pageTable.forEachLeaf((page, pfn) => {
      if (page >= startPage && page < endPage) frames.push(page, pfn);
    });
    for (let i = 0; i < frames.length; i += 2) {
      this.pageTable.unmap(frames[i]!, 1);
      if (because !== null) this.pageFlows?.frameGone(this, frames[i]!, frames[i + 1]!, because);
      this.memory.put(frames[i + 1]!);
    }
  }

  /** Splits the VMA containing `page` so that a VMA starts exactly there. */
  private splitAt(page: number): void {
    const index = this.vmas.findIndex((vma) => vma.startPage < page && page < vma.endPage);
    if (index < 0) return;
    const vma = this.vmas[index]!;
    this.vmas.splice(index + 1, 0, { startPage: page, endPage: vma.endPage, prot: vma.prot });
    vma.endPage = page;
  }

  private notifyInvalidate(startPage: number, endPage: number): void {
    for (const notifier of this.notifiers) notifier.invalidateRange(this, startPage, endPage);
  }

  private checkAlive(): void {
    if (this.exiting) fail('ESRCH', `process ${this.id} has exited.`, { reason: 'exited' });
  }

  private checkUserRange(startPage: number, pages: number): void {
    if (!Number.isSafeInteger(pages) || pages <= 0)
      fail('EINVAL', `length must be at least one page.`, { reason: 'bad-size' });
    if (startPage < 0 || startPage + pages > this.userPageLimit) {
      fail(
        'ERANGE',
        `[${formatAddress(startPage)}, +${pages} pages) is outside the user address space (below ${formatAddress(this.userPageLimit)}).`,
        {
          reason: 'out-of-range',
        },
      );
    }
  }
}
