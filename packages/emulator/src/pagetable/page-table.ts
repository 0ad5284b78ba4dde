/**
 * A multi-level radix page table with 512 entries a level: 4 levels cover 48-bit input addresses,
 * 5 levels 57-bit ones (x86-64 / VT-d / Arm LPAE with a 4 KiB granule, reference §8). Leaves can sit at
 * level 1 (4 KiB), 2 (2 MiB) or 3 (1 GiB). The format knows nothing of IOMMU families: VT-d and SMMUv3
 * models, SVA (a process's CPU table) and nested stage 1 all walk this structure and interpret a miss
 * in their own terms.
 *
 * Storage grows from one node and holds only what is mapped (issue 13: 8 preallocated 4 KiB nodes made a
 * process with one resident page cost 32 KiB). A node starts compact: up to COMPACT_ENTRIES (index, entry)
 * pairs sorted by index, 128 bytes, which is all the upper levels of a sparse table ever need; its next entry
 * makes it full, 512 entries in a pool of full nodes. Both pools are typed arrays that double when full, so a
 * walk reads typed-array slots and allocates nothing.
 *
 * An entry is 0 (not present), a leaf encoded as pfn*32 + perms*2 + 1, or a pointer -ref to a node's
 * storage: ref n is compact node n, ref FULL_REF + f is full node f, so a walk goes from entry to entry
 * without a lookup between. Node numbers (what a walk shows as the table's address, pte-decode.ts) are
 * handed out as before, in order and the last freed first, so they do not depend on the storage.
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
/** Entries a compact node holds; one more and it becomes full. */
const COMPACT_ENTRIES = 8;
/** Slots of a compact node: its (index, entry) pairs. */
const COMPACT_STRIDE = 2 * COMPACT_ENTRIES;
/**
 * Refs from here up are full nodes (ref - FULL_REF); below, compact nodes by number. 2^29 keeps refs small
 * integers for V8, and no table gets near it (2^29 compact nodes would be 64 GiB).
 */
const FULL_REF = 2 ** 29;
/** The full-node pools of a table that has none yet: never written, a table grows its own first. */
const NO_FULL_NODES = new Float64Array(0);
const NO_FULL_NODE_INFO = new Int32Array(0);

function leafEntry(pfn: number, perms: number): number {
  return pfn * 32 + perms * 2 + 1;
}

/** Index of `page`'s entry in a level-`level` table: (page / span) & 511, exact for any page below 2^53. */
function indexAt(page: number, level: number): number {
  return (page / pagesPerEntry(level)) & INDEX_MASK;
}

export class PageTable {
  readonly levels: 4 | 5;
  /** Page numbers must be below this (2^36 for 4 levels, 2^45 for 5). */
  readonly pageLimit: number;
  private readonly maxLeafLevel: number;
  private readonly allowedLeafLevels: number;
  /** Compact storage, COMPACT_STRIDE slots a node, by node number (a full node's stays unused). */
  private compact = new Float64Array(COMPACT_STRIDE);
  /** Present entries of each compact node (empty tables are freed). */
  private compactCounts = new Uint8Array(1);
  /** Full nodes, NODE_ENTRIES slots each. */
  private full = NO_FULL_NODES;
  /** Per full node: its present entries, and the number of the node it holds. */
  private fullCounts = NO_FULL_NODE_INFO;
  private fullNodeNumbers = NO_FULL_NODE_INFO;
  /** The root's ref: node 0, compact until it fills. */
  private rootRef = 0;
  private nodesUsed = 1;
  private fullNodesUsed = 0;
  private readonly freeNodes: number[] = [];
  private readonly freeFullNodes: number[] = [];
  /** 4 KiB pages currently mapped. */
  mappedPages = 0;

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
  }

  /** Number of table nodes in use, the root included. */
  get tables(): number {
    return this.nodesUsed - this.freeNodes.length;
  }

  /** Bytes of the typed arrays this table holds, free space included: its memory, give or take objects. */
  get storageBytes(): number {
    return (
      this.compact.byteLength +
      this.compactCounts.byteLength +
      this.full.byteLength +
      this.fullCounts.byteLength +
      this.fullNodeNumbers.byteLength
    );
  }

  supportsLeafLevel(level: number): boolean {
    return (this.allowedLeafLevels & (1 << level)) !== 0;
  }

  /** Translates one page. Hot path: no allocation. */
  walk(page: number, out: WalkResult): boolean {
    let ref = this.rootRef;
    for (let level = this.levels; level >= 1; level--) {
      const span = pagesPerEntry(level);
      const entry = this.entryAt(ref, (page / span) & INDEX_MASK);
      if (entry < 0) {
        ref = -entry;
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
    let ref = this.rootRef;
    for (let level: number = this.levels; level > 1; level--) {
      const entry = this.entryAt(ref, indexAt(page, level));
      if (entry > 0)
        fail('EEXIST', `iova ${formatAddress(page)} is already mapped by a larger page.`, {
          reason: 'overlap',
        });
      if (entry === 0) break;
      ref = -entry;
      if (level === 2 && this.entryAt(ref, page & INDEX_MASK) !== 0) {
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
      let ref = this.rootRef;
      for (let level = this.levels; level >= 1; level--) {
        const span = pagesPerEntry(level);
        const entry = this.entryAt(ref, indexAt(at, level));
        if (entry === 0) {
          at = at - (at % span) + span;
          continue outer;
        }
        if (entry > 0) return at;
        ref = -entry;
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
      const base = touched[i]!;
      const level = touched[i + 1]!;
      const ref = this.refHolding(base, level);
      const index = indexAt(base, level);
      // Replaces a present entry: the node neither grows nor moves.
      this.setEntry(ref, index, leafEntry(Math.floor(this.entryAt(ref, index) / 32), perms));
    }
    return touched.length / 2;
  }

  /** Calls `visit` for every leaf in address order. */
  forEachLeaf(visit: (page: number, pfn: number, pages: number, perms: number) => void): void {
    const recurse = (ref: number, level: number, basePage: number): void => {
      const span = pagesPerEntry(level);
      const isFull = ref >= FULL_REF;
      // A full node's 512 slots, or a compact node's present pairs, both in index order.
      const slots = isFull ? NODE_ENTRIES : this.compactCounts[ref]!;
      for (let slot = 0; slot < slots; slot++) {
        const index = isFull ? slot : this.compact[ref * COMPACT_STRIDE + 2 * slot]!;
        const entry = this.entryAt(ref, index);
        if (entry === 0) continue;
        const page = basePage + index * span;
        if (entry < 0) recurse(-entry, level - 1, page);
        else visit(page, Math.floor(entry / 32), span, Math.floor(entry / 2) % 16);
      }
    };
    recurse(this.rootRef, this.levels, 0);
  }

  /**
   * The walk for one page, level by level, for people reading it; with a format, each level also has its
   * table's physical address and the raw entry decoded (pte-decode.ts).
   */
  walkSteps(page: number, format?: PteFormat): WalkStep[] {
    this.checkRange(page, 1);
    const steps: WalkStep[] = [];
    let ref = this.rootRef;
    for (let level = this.levels; level >= 1; level--) {
      const index = indexAt(page, level);
      const entry = this.entryAt(ref, index);
      const node = this.nodeNumber(ref);
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
            ? { kind: 'table', next: this.nodeNumber(-entry) }
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
      ref = -entry;
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

  /** Installs one leaf, creating the tables on the way (the caller checked that nothing overlaps). */
  private install(page: number, pfn: number, perms: number, level: number): void {
    let parentRef = -1;
    let parentIndex = 0;
    let ref = this.rootRef;
    for (let at = this.levels; ; at--) {
      const index = indexAt(page, at);
      const existing = at === level ? 0 : this.entryAt(ref, index);
      if (existing < 0) {
        parentRef = ref;
        parentIndex = index;
        ref = -existing;
        continue;
      }
      const entry = at === level ? leafEntry(pfn, perms) : -this.allocateNode();
      const moved = this.setEntry(ref, index, entry);
      // The node turned full: its parent (or the root ref) points at its new storage.
      if (moved !== ref) {
        if (parentRef < 0) this.rootRef = moved;
        else this.setEntry(parentRef, parentIndex, -moved);
      }
      if (at === level) break;
      parentRef = moved;
      parentIndex = index;
      ref = -entry;
    }
    this.mappedPages += pagesPerEntry(level);
  }

  /** The ref of the node whose entry maps `page` at `level` (every table on the way exists). */
  private refHolding(page: number, level: number): number {
    let ref = this.rootRef;
    for (let at = this.levels; at > level; at--) ref = -this.entryAt(ref, indexAt(page, at));
    return ref;
  }

  /** The number of the node behind a ref: what a walk shows. */
  private nodeNumber(ref: number): number {
    return ref >= FULL_REF ? this.fullNodeNumbers[ref - FULL_REF]! : ref;
  }

  private remove(page: number, level: number): void {
    this.clear(this.rootRef, this.levels, page, level);
    this.mappedPages -= pagesPerEntry(level);
  }

  /**
   * Clears the level-`level` entry for `page` under `ref` (a level-`nodeLevel` table), freeing the tables
   * it leaves empty from the bottom up (the root stays); returns whether that node is empty now.
   */
  private clear(ref: number, nodeLevel: number, page: number, level: number): boolean {
    const index = indexAt(page, nodeLevel);
    if (nodeLevel > level) {
      const child = -this.entryAt(ref, index);
      if (!this.clear(child, nodeLevel - 1, page, level)) return false;
      this.freeNode(child);
    }
    this.setEntry(ref, index, 0);
    return (ref >= FULL_REF ? this.fullCounts[ref - FULL_REF] : this.compactCounts[ref]) === 0;
  }

  /** The entry at `index` of a node: a full node's slot, or the matching pair of a compact one (else 0). */
  private entryAt(ref: number, index: number): number {
    if (ref >= FULL_REF) return this.full[(ref - FULL_REF) * NODE_ENTRIES + index]!;
    const compact = this.compact;
    const start = ref * COMPACT_STRIDE;
    const end = start + 2 * this.compactCounts[ref]!;
    for (let at = start; at < end; at += 2) {
      const held = compact[at]!;
      if (held >= index) return held === index ? compact[at + 1]! : 0;
    }
    return 0;
  }

  /**
   * Sets (0: clears) the entry at `index` of a node, keeping its count. Returns the node's ref, which
   * changes only when a compact node past its size turns full: the caller repoints its parent.
   */
  private setEntry(ref: number, index: number, entry: number): number {
    if (ref >= FULL_REF) {
      const fullNode = ref - FULL_REF;
      const slot = fullNode * NODE_ENTRIES + index;
      if (this.full[slot] === 0 && entry !== 0) this.fullCounts[fullNode]!++;
      else if (this.full[slot] !== 0 && entry === 0) this.fullCounts[fullNode]!--;
      this.full[slot] = entry;
      return ref;
    }
    const compact = this.compact;
    const start = ref * COMPACT_STRIDE;
    const count = this.compactCounts[ref]!;
    const end = start + 2 * count;
    let at = start;
    while (at < end && compact[at]! < index) at += 2;
    if (at < end && compact[at] === index) {
      if (entry !== 0) compact[at + 1] = entry;
      else {
        compact.copyWithin(at, at + 2, end);
        this.compactCounts[ref] = count - 1;
      }
    } else if (entry !== 0) {
      if (count === COMPACT_ENTRIES) return this.setEntry(this.makeFull(ref), index, entry);
      compact.copyWithin(at + 2, at, end);
      compact[at] = index;
      compact[at + 1] = entry;
      this.compactCounts[ref] = count + 1;
    }
    return ref;
  }

  /**
   * Moves compact node `node`'s entries into a full node, reused or new (the pool doubles); returns its ref.
   * A full node stays full until it is empty: a table that was dense once is likely to be again.
   */
  private makeFull(node: number): number {
    let fullNode = this.freeFullNodes.pop();
    if (fullNode !== undefined) this.full.fill(0, fullNode * NODE_ENTRIES, (fullNode + 1) * NODE_ENTRIES);
    else {
      fullNode = this.fullNodesUsed++;
      if (fullNode >= this.fullCounts.length) {
        const capacity = Math.max(1, 2 * this.fullCounts.length);
        this.full = grown(this.full, capacity * NODE_ENTRIES);
        this.fullCounts = grown(this.fullCounts, capacity);
        this.fullNodeNumbers = grown(this.fullNodeNumbers, capacity);
      }
    }
    const start = node * COMPACT_STRIDE;
    for (let pair = 0; pair < COMPACT_ENTRIES; pair++)
      this.full[fullNode * NODE_ENTRIES + this.compact[start + 2 * pair]!] =
        this.compact[start + 2 * pair + 1]!;
    this.fullCounts[fullNode] = COMPACT_ENTRIES;
    this.fullNodeNumbers[fullNode] = node;
    this.compactCounts[node] = 0;
    return FULL_REF + fullNode;
  }

  /** Frees an empty node: a full node's storage goes back to its pool, and the number to the free list. */
  private freeNode(ref: number): void {
    if (ref >= FULL_REF) this.freeFullNodes.push(ref - FULL_REF);
    this.freeNodes.push(this.nodeNumber(ref));
  }

  /** A node number for a new, empty compact table: the last freed, else the next (storage doubles). */
  private allocateNode(): number {
    const reused = this.freeNodes.pop();
    if (reused !== undefined) return reused;
    const node = this.nodesUsed++;
    if (node >= this.compactCounts.length) {
      this.compactCounts = grown(this.compactCounts, 2 * this.compactCounts.length);
      this.compact = grown(this.compact, 2 * this.compact.length);
    }
    return node;
  }
}

/** A copy of `array` with room for `length` elements. */
function grown<T extends Float64Array | Int32Array | Uint8Array>(array: T, length: number): T {
  const copy = new (array.constructor as new (length: number) => T)(length);
  copy.set(array);
  return copy;
}
