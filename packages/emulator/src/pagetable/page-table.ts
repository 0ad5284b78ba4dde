/**
 * A multi-level radix page table with 512 entries a level: 4 levels cover 48-bit input addresses,
 * 5 levels 57-bit ones (x86-64 / VT-d / Arm LPAE with a 4 KiB granule, reference §8). Leaves can sit at
 * level 1 (4 KiB), 2 (2 MiB) or 3 (1 GiB). The format knows nothing of IOMMU families: VT-d and SMMUv3
 * models, SVA (a process's CPU table) and nested stage 1 all walk this structure and interpret a miss
 * in their own terms.
 *
 * Storage is one Float64Array of 512-entry nodes, so a walk reads typed-array slots and allocates nothing.
 * An entry is 0 (not present), -n (pointer to node n) or a leaf encoded as pfn*32 + perms*2 + 1.
 */
import {
  ENTRIES_PER_TABLE,
  PAGE_SIZES,
  type PageSizeName,
  formatAddress,
  offsetInSpan,
  pagesPerEntry,
} from '../address';
import { fail } from '../errors';
import { formatProt } from './permissions';
import { type DecodedBit, type PteFormat, decodeEntry, encodeEntry, hex64, tableAddress } from './pte-decode';

/** Scratch result of a walk, reused by callers so the walk allocates nothing. */
export interface WalkResult {
  present: boolean;
  /** Frame of the requested 4 KiB page (leaf base + offset inside the leaf). */
  pfn: number;
  perms: number;
  /** Level of the leaf: 1 (4 KiB), 2 (2 MiB), 3 (1 GiB). */
  leafLevel: number;
  /** Entries read, counting the leaf or the empty entry: the walk's cost in memory accesses. */
  levelsWalked: number;
}

export function newWalkResult(): WalkResult {
  return { present: false, pfn: 0, perms: 0, leafLevel: 0, levelsWalked: 0 };
}

/** One contiguous leaf removed by `unmap`. */
export interface RemovedLeaf {
  page: number;
  pfn: number;
  pages: number;
  perms: number;
}

/** One level of a walk, as the inspector shows it. */
export interface WalkStep {
  level: number;
  index: number;
  /** The table (node) the entry was read from. */
  table: number;
  entry: 'table' | 'leaf' | 'empty';
  /** For a leaf: output address of the leaf's base and its permissions. */
  output?: string;
  prot?: string;
  /** For a leaf: the size it maps. */
  size?: PageSizeName;
  /** With a format (pte-decode.ts): the table's physical address, the raw entry in hex and its bits. */
  tablePa?: string;
  raw?: string;
  bits?: DecodedBit[];
}

export interface PageTableOptions {
  levels: 4 | 5;
  /** Leaf sizes this table may use; 4K is always allowed. */
  pageSizes?: readonly PageSizeName[];
}

const NODE_ENTRIES = ENTRIES_PER_TABLE;
const INDEX_MASK = ENTRIES_PER_TABLE - 1;
const LEVEL_NAMES: Record<number, PageSizeName> = { 1: '4K', 2: '2M', 3: '1G' };

function leafEntry(pfn: number, perms: number): number {
  return pfn * 32 + perms * 2 + 1;
}

export class PageTable {
  readonly levels: 4 | 5;
  /** Page numbers must be below this (2^36 for 4 levels, 2^45 for 5). */
  readonly pageLimit: number;
  private readonly maxLeafLevel: number;
  private readonly allowedLeafLevels: number;
  private entries: Float64Array;
  /** Present entries per node, so empty tables can be freed on unmap. */
  private counts: Uint16Array;
  private nodesUsed = 1;
  private readonly freeNodes: number[] = [];
  /** 4 KiB pages currently mapped. */
  mappedPages = 0;
  /** Descent path of the last `descend` call, by level. */
  private readonly path = new Float64Array(6);

  constructor(options: PageTableOptions) {
    this.levels = options.levels;
    this.pageLimit = NODE_ENTRIES ** this.levels;
    let allowed = 1 << 1;
    let max = 1;
    for (const size of options.pageSizes ?? ['4K']) {
      const level = PAGE_SIZES[size];
      allowed |= 1 << level;
      max = Math.max(max, level);
    }
    this.allowedLeafLevels = allowed;
    this.maxLeafLevel = max;
    this.entries = new Float64Array(NODE_ENTRIES * 8);
    this.counts = new Uint16Array(8);
  }

  /** Number of table nodes in use, the root included. */
  get tables(): number {
    return this.nodesUsed - this.freeNodes.length;
  }

  supportsLeafLevel(level: number): boolean {
    return (this.allowedLeafLevels & (1 << level)) !== 0;
  }

  /** Translates one page. Hot path: no allocation. */
  walk(page: number, out: WalkResult): boolean {
    const entries = this.entries;
    let node = 0;
    for (let level = this.levels; level >= 1; level--) {
      const span = pagesPerEntry(level);
      // (page / span) & 511: truncation then the low 9 bits, exact for any page below 2^53.
      const entry = entries[node * NODE_ENTRIES + ((page / span) & INDEX_MASK)]!;
      if (entry < 0) {
        node = -entry;
        continue;
      }
      out.levelsWalked = this.levels - level + 1;
      if (entry === 0) {
        out.present = false;
        out.leafLevel = 0;
        return false;
      }
      out.present = true;
      out.pfn = Math.floor(entry / 32) + offsetInSpan(page, span);
      out.perms = Math.floor(entry / 2) % 16;
      out.leafLevel = level;
      return true;
    }
    out.present = false;
    return false;
  }

  /**
   * Maps `pageCount` pages at `page` to frames starting at `pfn`. Without a forced size, each step uses
   * the largest allowed leaf that fits the alignment of both addresses and the remaining length, as
   * Linux's iommu_pgsize() does. Checks the whole range first and changes nothing on refusal.
   */
  map(page: number, pfn: number, pageCount: number, perms: number, pageSize?: PageSizeName): void {
    this.assertMappable(page, pageCount, pageSize);
    const forced = pageSize === undefined ? 0 : PAGE_SIZES[pageSize];
    if (forced !== 0 && pfn % pagesPerEntry(forced) !== 0) {
      fail('EINVAL', `a ${pageSize} mapping needs a physical address aligned to ${pageSize}.`, {
        reason: 'misaligned',
      });
    }
    for (let done = 0; done < pageCount;) {
      const level = forced || this.chooseLevel(page + done, pfn + done, pageCount - done);
      this.install(page + done, pfn + done, perms, level);
      done += pagesPerEntry(level);
    }
  }

  /**
   * Maps one 4 KiB page: the demand-paging path (handle_mm_fault, MAP and guest handlers), one descent
   * instead of map's checks and install. An overlap is found before anything is created: a larger leaf
   * on the way, or a used slot, means every table on the path already existed.
   */
  mapPage(page: number, pfn: number, perms: number): void {
    this.checkRange(page, 1);
    let node = 0;
    for (let level: number = this.levels; level > 1; level--) {
      const span = pagesPerEntry(level);
      const entry = this.entries[node * NODE_ENTRIES + ((page / span) & INDEX_MASK)]!;
      if (entry > 0)
        fail('EEXIST', `iova ${formatAddress(page)} is already mapped by a larger page.`, {
          reason: 'overlap',
        });
      if (entry === 0) break;
      node = -entry;
      if (level === 2 && this.entries[node * NODE_ENTRIES + (page & INDEX_MASK)] !== 0) {
        fail('EEXIST', `iova ${formatAddress(page)} is already mapped.`, { reason: 'overlap' });
      }
    }
    this.install(page, pfn, perms, 1);
  }

  /** Throws what `map` would throw for the input range, without needing the frames yet. */
  assertMappable(page: number, pageCount: number, pageSize?: PageSizeName): void {
    this.checkRange(page, pageCount);
    if (pageSize !== undefined) {
      const level = PAGE_SIZES[pageSize];
      if (level === undefined || !this.supportsLeafLevel(level)) {
        fail('EINVAL', `page size ${String(pageSize)} is not supported by this table.`, {
          reason: 'unsupported-page-size',
        });
      }
      const span = pagesPerEntry(level);
      if (page % span !== 0 || pageCount % span !== 0) {
        fail('EINVAL', `a ${pageSize} mapping needs iova and size aligned to ${pageSize}.`, {
          reason: 'misaligned',
        });
      }
    }
    const clash = this.firstMappedIn(page, pageCount);
    if (clash >= 0) {
      fail('EEXIST', `iova ${formatAddress(clash)} is already mapped; the new mapping would overlap it.`, {
        reason: 'overlap',
      });
    }
  }

  /** First mapped page in [page, page + pageCount), or -1. Skips empty subtrees whole. */
  firstMappedIn(page: number, pageCount: number): number {
    const end = page + pageCount;
    let at = page;
    outer: while (at < end) {
      let node = 0;
      for (let level = this.levels; level >= 1; level--) {
        const span = pagesPerEntry(level);
        const entry = this.entries[node * NODE_ENTRIES + (Math.floor(at / span) % NODE_ENTRIES)]!;
        if (entry === 0) {
          at = at - (at % span) + span;
          continue outer;
        }
        if (entry > 0) return at;
        node = -entry;
      }
    }
    return -1;
  }

  /**
   * Removes every leaf in [page, page + pageCount). Refuses (changing nothing) when a page in the range is
   * not mapped or when the range would cut a large leaf in two.
   */
  unmap(page: number, pageCount: number): RemovedLeaf[] {
    this.checkRange(page, pageCount);
    const end = page + pageCount;
    const scratch = newWalkResult();
    for (let at = page; at < end;) {
      if (!this.walk(at, scratch))
        fail('ENOENT', `iova ${formatAddress(at)} is not mapped.`, { reason: 'not-mapped' });
      const span = pagesPerEntry(scratch.leafLevel);
      const base = at - (at % span);
      if (base < page || base + span > end) {
        fail(
          'EINVAL',
          `the range would split the ${LEVEL_NAMES[scratch.leafLevel]} mapping at ${formatAddress(base)}; unmap all of it.`,
          {
            reason: 'splits-leaf',
          },
        );
      }
      at = base + span;
    }
    const removed: RemovedLeaf[] = [];
    for (let at = page; at < end;) {
      this.walk(at, scratch);
      const span = pagesPerEntry(scratch.leafLevel);
      removed.push({ page: at, pfn: scratch.pfn, pages: span, perms: scratch.perms });
      this.remove(at, scratch.leafLevel);
      at += span;
    }
    return removed;
  }

  /**
   * Sets the permissions of every present leaf inside [page, page + pageCount); absent pages are skipped
   * (a CPU mprotect over pages never faulted in). Refuses to cut a large leaf.
   */
  protect(page: number, pageCount: number, perms: number): number {
    this.checkRange(page, pageCount);
    const end = page + pageCount;
    const scratch = newWalkResult();
    const touched: number[] = [];
    for (let at = page; at < end;) {
      if (!this.walk(at, scratch)) {
        at += 1;
        continue;
      }
      const span = pagesPerEntry(scratch.leafLevel);
      const base = at - (at % span);
      if (base < page || base + span > end) {
        fail(
          'EINVAL',
          `the range would split the ${LEVEL_NAMES[scratch.leafLevel]} mapping at ${formatAddress(base)}.`,
          {
            reason: 'splits-leaf',
          },
        );
      }
      touched.push(base, scratch.leafLevel);
      at = base + span;
    }
    for (let i = 0; i < touched.length; i += 2) {
      const slot = this.descend(touched[i]!, touched[i + 1]!);
      const entry = this.entries[slot]!;
      this.entries[slot] = leafEntry(Math.floor(entry / 32), perms);
    }
    return touched.length / 2;
  }

  /** Calls `visit` for every leaf in address order. */
  forEachLeaf(visit: (page: number, pfn: number, pages: number, perms: number) => void): void {
    const recurse = (node: number, level: number, basePage: number): void => {
      const span = pagesPerEntry(level);
      for (let index = 0; index < NODE_ENTRIES; index++) {
        const entry = this.entries[node * NODE_ENTRIES + index]!;
        if (entry === 0) continue;
        const page = basePage + index * span;
        if (entry < 0) recurse(-entry, level - 1, page);
        else visit(page, Math.floor(entry / 32), span, Math.floor(entry / 2) % 16);
      }
    };
    recurse(0, this.levels, 0);
  }

  /**
   * The walk for one page, level by level, for people reading it; with a format, each level also has its
   * table's physical address and the raw entry decoded (pte-decode.ts).
   */
  walkSteps(page: number, format?: PteFormat): WalkStep[] {
    this.checkRange(page, 1);
    const steps: WalkStep[] = [];
    let node = 0;
    for (let level = this.levels; level >= 1; level--) {
      const span = pagesPerEntry(level);
      const index = Math.floor(page / span) % NODE_ENTRIES;
      const entry = this.entries[node * NODE_ENTRIES + index]!;
      let step: WalkStep;
      if (entry < 0) step = { level, index, table: node, entry: 'table' };
      else if (entry === 0) step = { level, index, table: node, entry: 'empty' };
      else
        step = {
          level,
          index,
          table: node,
          entry: 'leaf',
          output: formatAddress(Math.floor(entry / 32)),
          prot: formatProt(Math.floor(entry / 2) % 16),
          size: LEVEL_NAMES[level]!,
        };
      if (format !== undefined) {
        const raw = encodeEntry(
          format,
          entry < 0
            ? { kind: 'table', next: -entry }
            : entry === 0
              ? { kind: 'empty' }
              : { kind: 'leaf', pfn: Math.floor(entry / 32), perms: Math.floor(entry / 2) % 16, level },
        );
        step.tablePa = `0x${tableAddress(node).toString(16)}`;
        step.raw = hex64(raw);
        step.bits = decodeEntry(format, raw, level);
      }
      steps.push(step);
      if (entry >= 0) break;
      node = -entry;
    }
    return steps;
  }

  private checkRange(page: number, pageCount: number): void {
    if (!Number.isSafeInteger(page) || page < 0 || !Number.isSafeInteger(pageCount) || pageCount <= 0) {
      fail('EINVAL', `bad page range ${page}+${pageCount}.`, { reason: 'bad-range' });
    }
    if (page + pageCount > this.pageLimit) {
      const bits = 12 + 9 * this.levels;
      fail(
        'ERANGE',
        `range ${formatAddress(page)}+${pageCount} pages is beyond the ${bits}-bit input range of a ${this.levels}-level table.`,
        {
          reason: 'out-of-range',
        },
      );
    }
  }

  private chooseLevel(page: number, pfn: number, remaining: number): number {
    for (let level = this.maxLeafLevel; level > 1; level--) {
      const span = pagesPerEntry(level);
      if (this.supportsLeafLevel(level) && page % span === 0 && pfn % span === 0 && remaining >= span)
        return level;
    }
    return 1;
  }

  private install(page: number, pfn: number, perms: number, level: number): void {
    let node = 0;
    for (let at = this.levels; at > level; at--) {
      const slot = node * NODE_ENTRIES + (Math.floor(page / pagesPerEntry(at)) % NODE_ENTRIES);
      let entry = this.entries[slot]!;
      if (entry === 0) {
        const child = this.allocateNode();
        this.entries[slot] = -child;
        this.counts[node]!++;
        entry = -child;
      }
      node = -entry;
    }
    const slot = node * NODE_ENTRIES + (Math.floor(page / pagesPerEntry(level)) % NODE_ENTRIES);
    this.entries[slot] = leafEntry(pfn, perms);
    this.counts[node]!++;
    this.mappedPages += pagesPerEntry(level);
  }

  /** Slot index of the entry for `page` at `level`; records the nodes on the way in `path`. */
  private descend(page: number, level: number): number {
    let node = 0;
    for (let at = this.levels; at > level; at--) {
      this.path[at] = node;
      node = -this.entries[node * NODE_ENTRIES + (Math.floor(page / pagesPerEntry(at)) % NODE_ENTRIES)]!;
    }
    this.path[level] = node;
    return node * NODE_ENTRIES + (Math.floor(page / pagesPerEntry(level)) % NODE_ENTRIES);
  }

  private remove(page: number, level: number): void {
    const slot = this.descend(page, level);
    this.entries[slot] = 0;
    this.mappedPages -= pagesPerEntry(level);
    // Free tables that became empty, walking back up; the root stays.
    for (let at = level; at < this.levels; at++) {
      const node = this.path[at]!;
      if (--this.counts[node]! > 0) return;
      this.freeNodes.push(node);
      const parent = this.path[at + 1]!;
      this.entries[parent * NODE_ENTRIES + (Math.floor(page / pagesPerEntry(at + 1)) % NODE_ENTRIES)] = 0;
    }
    this.counts[0]!--;
  }

  private allocateNode(): number {
    const reused = this.freeNodes.pop();
    if (reused !== undefined) {
      this.entries.fill(0, reused * NODE_ENTRIES, (reused + 1) * NODE_ENTRIES);
      this.counts[reused] = 0;
      return reused;
    }
    const node = this.nodesUsed++;
    if (node >= this.counts.length) {
      const grownEntries = new Float64Array(this.entries.length * 2);
      grownEntries.set(this.entries);
      this.entries = grownEntries;
      const grownCounts = new Uint16Array(this.counts.length * 2);
      grownCounts.set(this.counts);
      this.counts = grownCounts;
    }
    return node;
  }
}
