/**
 * A page table holds storage for what is mapped, not a preallocated block (issue 13: 8 nodes of 4 KiB made a
 * process with one resident page cost 32 KiB): nodes start compact and turn full only when they fill, unmap
 * gives storage back for reuse, and none of it shows in what a walk returns, table numbers included.
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../sim/random';
import { PageTable, newWalkResult } from './page-table';
import { PERM_READ, PERM_WRITE } from './permissions';

const RW = PERM_READ | PERM_WRITE;
/** One 4 KiB table page, what the old layout spent per node and hardware spends per table. */
const NODE_BYTES = 4096;
/** 4 KiB pages under one level-1 table, and under one level-2 table (written out). */
const LEVEL1_SPAN = 512;
const LEVEL2_SPAN = 262144;

function pfnAt(table: PageTable, page: number): number | undefined {
  const out = newWalkResult();
  return table.walk(page, out) ? out.pfn : undefined;
}

function leafPages(table: PageTable): number[] {
  const pages: number[] = [];
  table.forEachLeaf((page) => pages.push(page));
  return pages;
}

describe('a page table grows from one node', () => {
  it('a new table holds its root only, in less than one 4 KiB table page', () => {
    const table = new PageTable({ levels: 4 });
    expect(table.tables).toBe(1);
    expect(table.storageBytes).toBeLessThan(NODE_BYTES);
  });

  it('a table with one mapping uses one node per level, all four in less than one 4 KiB page', () => {
    const four = new PageTable({ levels: 4 });
    four.map(0x123456, 7, 1, RW);
    expect(four.tables).toBe(4);
    expect(four.storageBytes).toBeLessThan(NODE_BYTES);
    const five = new PageTable({ levels: 5 });
    five.map(2 ** 45 - 1, 7, 1, RW);
    expect(five.tables).toBe(5);
    expect(five.storageBytes).toBeLessThan(NODE_BYTES);
    expect(pfnAt(five, 2 ** 45 - 1)).toBe(7);
  });

  it('a level-1 table filling up, in any order, keeps every entry and grows by one 4 KiB page', () => {
    const random = new Random(5);
    const order = Array.from({ length: 40 }, (_, i) => i * 12);
    for (let i = order.length - 1; i > 0; i--) {
      const j = random.int(0, i);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const table = new PageTable({ levels: 4 });
    const mapped = new Set<number>();
    const sparseBytes = (() => {
      const probe = new PageTable({ levels: 4 });
      probe.map(0, 1, 1, RW);
      return probe.storageBytes;
    })();
    for (const page of order) {
      table.map(page, 1000 + page, 1, RW);
      mapped.add(page);
      for (let probe = 0; probe < LEVEL1_SPAN; probe += 6)
        expect(pfnAt(table, probe)).toBe(mapped.has(probe) ? 1000 + probe : undefined);
    }
    expect(leafPages(table)).toEqual([...mapped].sort((a, b) => a - b));
    expect(table.tables).toBe(4);
    expect(table.storageBytes).toBeGreaterThanOrEqual(sparseBytes + NODE_BYTES);
    expect(table.storageBytes).toBeLessThan(sparseBytes + 2 * NODE_BYTES);
  });

  it('1 024 contiguous pages take two full level-1 tables, not eight preallocated ones', () => {
    const table = new PageTable({ levels: 4 });
    table.map(0x100000, 0, 1024, RW);
    expect(table.tables).toBe(5);
    expect(table.storageBytes).toBeGreaterThanOrEqual(2 * NODE_BYTES);
    expect(table.storageBytes).toBeLessThan(3 * NODE_BYTES);
    expect(pfnAt(table, 0x100000 + 1023)).toBe(1023);
  });

  it('storage freed by unmap is reused: mapping as much again elsewhere does not grow it, and nothing stale shows', () => {
    const table = new PageTable({ levels: 4 });
    table.map(0, 0, 4 * LEVEL1_SPAN, RW);
    const peak = table.storageBytes;
    table.unmap(0, 4 * LEVEL1_SPAN);
    expect(table.tables).toBe(1);
    expect(table.mappedPages).toBe(0);
    // Elsewhere, under other upper tables, every other page: the same number of full level-1 tables.
    const base = 3 * LEVEL2_SPAN * 512;
    for (let page = 0; page < 4 * LEVEL1_SPAN; page += 2) table.map(base + page, 5 + page, 1, RW);
    expect(table.storageBytes).toBe(peak);
    for (let page = 0; page < 4 * LEVEL1_SPAN; page++) {
      expect(pfnAt(table, base + page)).toBe(page % 2 === 0 ? 5 + page : undefined);
      expect(pfnAt(table, page)).toBeUndefined();
    }
  });

  it('a reclaim that empties a full table in steps (a CPU table losing its pages) frees it at the last page', () => {
    const table = new PageTable({ levels: 4 });
    table.map(0, 0, LEVEL1_SPAN, RW);
    table.map(LEVEL1_SPAN, 9, 1, RW);
    for (let page = 0; page < LEVEL1_SPAN - 1; page++) table.unmap(page, 1);
    expect(table.tables).toBe(5);
    expect(leafPages(table)).toEqual([LEVEL1_SPAN - 1, LEVEL1_SPAN]);
    table.unmap(LEVEL1_SPAN - 1, 1);
    expect(table.tables).toBe(4);
    expect(pfnAt(table, LEVEL1_SPAN)).toBe(9);
    expect(pfnAt(table, LEVEL1_SPAN - 1)).toBeUndefined();
  });
});

describe('walks are as before the change', () => {
  it('tables are numbered in order of need, the last freed reused first (their address in a walk)', () => {
    const table = new PageTable({ levels: 4 });
    const tablesOf = (page: number) => table.walkSteps(page, 'vtd-sl').map((step) => step.table);
    table.map(0, 1, 1, RW);
    table.map(LEVEL2_SPAN, 2, 1, RW); // a new level-2 and level-1 table under the same level-3 one
    expect(tablesOf(0)).toEqual([0, 1, 2, 3]);
    expect(tablesOf(LEVEL2_SPAN)).toEqual([0, 1, 4, 5]);
    table.unmap(0, 1); // frees table 3, then table 2
    table.map(LEVEL2_SPAN * 512 * 7, 3, 1, RW); // needs three: 2 (freed last), 3, then the next new one
    expect(tablesOf(LEVEL2_SPAN * 512 * 7)).toEqual([0, 2, 3, 6]);
    expect(table.walkSteps(LEVEL2_SPAN * 512 * 7, 'vtd-sl').map((step) => step.tablePa)).toEqual([
      '0x10000000000',
      '0x10000002000',
      '0x10000003000',
      '0x10000006000',
    ]);
  });

  it('agrees with a simple model over seeded maps, unmaps and protects, dense and sparse, and ends with one table', () => {
    const table = new PageTable({ levels: 4 });
    const random = new Random(31);
    const model = new Map<number, { pfn: number; perms: number }>();
    // Dense runs (level-1 tables that fill and empty), a level-2 table with 12 level-1 tables under it,
    // and lone pages far apart (so the root fills too).
    const candidates: number[] = [];
    for (let run = 0; run < 3; run++)
      for (let i = 0; i < 40; i++) candidates.push(run * LEVEL2_SPAN + 100 + i);
    for (let i = 0; i < 12; i++) candidates.push(5 * LEVEL2_SPAN + i * LEVEL1_SPAN + 3);
    for (let i = 0; i < 40; i++) candidates.push(random.int(0, 2 ** 36 - 1));
    for (let step = 0; step < 4000; step++) {
      const page = candidates[random.int(0, candidates.length - 1)]!;
      const held = model.get(page);
      if (held && random.int(0, 3) === 0) {
        table.protect(page, 1, PERM_READ);
        held.perms = PERM_READ;
      } else if (held) {
        expect(table.unmap(page, 1)).toEqual([{ page, pfn: held.pfn, pages: 1, perms: held.perms }]);
        model.delete(page);
      } else {
        const pfn = random.int(0, 2 ** 30);
        table.mapPage(page, pfn, RW);
        model.set(page, { pfn, perms: RW });
      }
    }
    const out = newWalkResult();
    for (const page of candidates) {
      const held = model.get(page);
      expect(table.walk(page, out)).toBe(held !== undefined);
      if (held) expect([out.pfn, out.perms, out.levelsWalked]).toEqual([held.pfn, held.perms, 4]);
    }
    expect(leafPages(table)).toEqual([...model.keys()].sort((a, b) => a - b));
    for (const page of [...model.keys()]) table.unmap(page, 1);
    expect(table.tables).toBe(1);
  });
});
