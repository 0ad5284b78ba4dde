import { describe, expect, it } from 'vitest';
import { formatAddress } from '../address';
import { Random } from '../sim/random';
import { PageTable, newWalkResult } from './page-table';
import { PERM_EXEC, PERM_READ, PERM_WRITE } from './permissions';
import { refusal } from '../testing/refusal';

const R = PERM_READ;
const RW = PERM_READ | PERM_WRITE;
/** 4 KiB pages in a 2 MiB and a 1 GiB leaf (written out, not derived from the code under test). */
const TWO_MIB = 512;
const ONE_GIB = 262144;

type Leaf = [page: number, pfn: number, pages: number, perms: number];

function leaves(table: PageTable): Leaf[] {
  const out: Leaf[] = [];
  table.forEachLeaf((page, pfn, pages, perms) => out.push([page, pfn, pages, perms]));
  return out;
}

/** Everything observable about a table, to check that a refused call changed nothing. */
function snapshot(table: PageTable, probes: number[] = []): string {
  const out = newWalkResult();
  const walks = probes.map((page) => {
    const present = table.walk(page, out);
    return [page, present, out.pfn, out.perms, out.leafLevel, out.levelsWalked];
  });
  return JSON.stringify({ leaves: leaves(table), mapped: table.mappedPages, tables: table.tables, walks });
}

/** Asserts the call is refused with `code` (and `reason`) and leaves the table exactly as it was. */
function expectRefused(
  table: PageTable,
  call: () => unknown,
  code: string,
  reason?: string,
  probes: number[] = [],
): void {
  const before = snapshot(table, probes);
  const error = refusal(call);
  expect(error.code).toBe(code);
  if (reason !== undefined) expect(error.reason).toBe(reason);
  expect(snapshot(table, probes)).toBe(before);
}

function walk(table: PageTable, page: number) {
  const out = newWalkResult();
  const present = table.walk(page, out);
  return {
    present,
    pfn: out.pfn,
    perms: out.perms,
    leafLevel: out.leafLevel,
    levelsWalked: out.levelsWalked,
  };
}

describe('page table geometry (reference §8)', () => {
  it('a 4-level table covers 48-bit input addresses: the last page maps, the next is out of range', () => {
    const table = new PageTable({ levels: 4 });
    const last = 2 ** 36 - 1;
    table.map(last, 5, 1, RW);
    expect(walk(table, last)).toMatchObject({ present: true, pfn: 5, levelsWalked: 4 });
    expect(formatAddress(last)).toBe('0xfffffffff000');
    expectRefused(table, () => table.map(2 ** 36, 6, 1, RW), 'ERANGE', 'out-of-range');
  });

  it('a 5-level table covers 57-bit input addresses and walks five levels to a 4 KiB leaf', () => {
    const table = new PageTable({ levels: 5 });
    table.map(2 ** 36, 9, 1, RW); // beyond what 4 levels reach
    expect(walk(table, 2 ** 36)).toEqual({ present: true, pfn: 9, perms: RW, leafLevel: 1, levelsWalked: 5 });
    expectRefused(table, () => table.map(2 ** 45, 6, 1, RW), 'ERANGE', 'out-of-range');
    expectRefused(table, () => table.map(2 ** 45 - 1, 6, 2, RW), 'ERANGE', 'out-of-range');
  });

  it('a walk that misses reports how many entries it read', () => {
    const table = new PageTable({ levels: 4 });
    table.map(0x100, 0x2000, 3, RW);
    expect(walk(table, 0x101)).toMatchObject({ present: true, pfn: 0x2001, leafLevel: 1, levelsWalked: 4 });
    // Same last-level table, empty entry: four reads.
    expect(walk(table, 0x103)).toMatchObject({ present: false, leafLevel: 0, levelsWalked: 4 });
    // Same level-3 table, empty level-2 entry: three reads.
    expect(walk(table, TWO_MIB * 7)).toMatchObject({ present: false, levelsWalked: 3 });
    // Same level-4 root entry, empty level-3 entry: two reads.
    expect(walk(table, ONE_GIB * 3)).toMatchObject({ present: false, levelsWalked: 2 });
    // Empty root entry: one read.
    expect(walk(table, ONE_GIB * 512 * 2)).toMatchObject({ present: false, levelsWalked: 1 });
  });
});

describe('leaf sizes: 4 KiB, 2 MiB and 1 GiB (reference §8)', () => {
  it('walks fewer levels to a larger leaf: 2 MiB ends at level 2, 1 GiB at level 3', () => {
    const four = new PageTable({ levels: 4, pageSizes: ['4K', '2M', '1G'] });
    four.map(ONE_GIB, ONE_GIB, ONE_GIB, RW, '1G');
    four.map(TWO_MIB, TWO_MIB, TWO_MIB, RW, '2M');
    four.map(0, 0, 1, RW, '4K');
    expect(walk(four, ONE_GIB)).toMatchObject({ leafLevel: 3, levelsWalked: 2 });
    expect(walk(four, TWO_MIB)).toMatchObject({ leafLevel: 2, levelsWalked: 3 });
    expect(walk(four, 0)).toMatchObject({ leafLevel: 1, levelsWalked: 4 });

    const five = new PageTable({ levels: 5, pageSizes: ['4K', '2M', '1G'] });
    five.map(ONE_GIB, ONE_GIB, ONE_GIB, RW, '1G');
    five.map(TWO_MIB, TWO_MIB, TWO_MIB, RW, '2M');
    five.map(0, 0, 1, RW, '4K');
    expect(walk(five, ONE_GIB)).toMatchObject({ leafLevel: 3, levelsWalked: 3 });
    expect(walk(five, TWO_MIB)).toMatchObject({ leafLevel: 2, levelsWalked: 4 });
    expect(walk(five, 0)).toMatchObject({ leafLevel: 1, levelsWalked: 5 });
  });

  it('walks to the right frame at any offset inside a 2 MiB leaf', () => {
    const table = new PageTable({ levels: 4, pageSizes: ['4K', '2M'] });
    table.map(TWO_MIB * 3, TWO_MIB * 40, TWO_MIB, RW, '2M');
    for (const offset of [0, 1, 17, 255, 256, 511]) {
      expect(walk(table, TWO_MIB * 3 + offset)).toEqual({
        present: true,
        pfn: TWO_MIB * 40 + offset,
        perms: RW,
        leafLevel: 2,
        levelsWalked: 3,
      });
    }
    expect(walk(table, TWO_MIB * 3 - 1).present).toBe(false);
    expect(walk(table, TWO_MIB * 4).present).toBe(false);
  });

  it('walks to the right frame at any offset inside a 1 GiB leaf', () => {
    const table = new PageTable({ levels: 4, pageSizes: ['4K', '2M', '1G'] });
    table.map(ONE_GIB * 5, ONE_GIB * 2, ONE_GIB, R, '1G');
    for (const offset of [0, 1, 511, 512, 12345, 200000, ONE_GIB - 1]) {
      expect(walk(table, ONE_GIB * 5 + offset)).toEqual({
        present: true,
        pfn: ONE_GIB * 2 + offset,
        perms: R,
        leafLevel: 3,
        levelsWalked: 2,
      });
    }
    expect(walk(table, ONE_GIB * 6).present).toBe(false);
    expect(table.mappedPages).toBe(ONE_GIB);
    expect(table.tables).toBe(2); // the root and one level-3 table holding the leaf
  });
});

describe('choice of leaf size (like iommu_pgsize)', () => {
  it('uses the largest allowed leaf that the alignment of both addresses and the remaining length allow', () => {
    const table = new PageTable({ levels: 4, pageSizes: ['4K', '2M', '1G'] });
    // From 3 pages below a 2 MiB boundary that is itself 2 MiB below a 1 GiB boundary, with frames at
    // the same offsets: 3 × 4K up to the 2 MiB boundary, one 2M up to the 1 GiB boundary, one 1G,
    // then one 2M and 2 × 4K for the tail.
    const iova = ONE_GIB - TWO_MIB - 3;
    const pfn = 4 * ONE_GIB - TWO_MIB - 3;
    table.map(iova, pfn, 3 + TWO_MIB + ONE_GIB + TWO_MIB + 2, RW);
    expect(leaves(table)).toEqual([
      [iova, pfn, 1, RW],
      [iova + 1, pfn + 1, 1, RW],
      [iova + 2, pfn + 2, 1, RW],
      [ONE_GIB - TWO_MIB, 4 * ONE_GIB - TWO_MIB, TWO_MIB, RW],
      [ONE_GIB, 4 * ONE_GIB, ONE_GIB, RW],
      [2 * ONE_GIB, 5 * ONE_GIB, TWO_MIB, RW],
      [2 * ONE_GIB + TWO_MIB, 5 * ONE_GIB + TWO_MIB, 1, RW],
      [2 * ONE_GIB + TWO_MIB + 1, 5 * ONE_GIB + TWO_MIB + 1, 1, RW],
    ]);
    expect(table.mappedPages).toBe(3 + TWO_MIB + ONE_GIB + TWO_MIB + 2);
  });

  it('falls back to 4 KiB leaves when the frames are only 4 KiB aligned', () => {
    const table = new PageTable({ levels: 4, pageSizes: ['4K', '2M'] });
    table.map(TWO_MIB, TWO_MIB + 1, TWO_MIB, RW);
    const all = leaves(table);
    expect(all).toHaveLength(TWO_MIB);
    expect(all.every(([, , pages]) => pages === 1)).toBe(true);
    expect(walk(table, TWO_MIB + 10)).toMatchObject({ pfn: TWO_MIB + 11, leafLevel: 1 });
  });

  it('uses 2 MiB leaves inside a 1 GiB-aligned range when the frames are only 2 MiB aligned', () => {
    const table = new PageTable({ levels: 4, pageSizes: ['4K', '2M', '1G'] });
    table.map(ONE_GIB, TWO_MIB * 3, ONE_GIB, RW);
    const all = leaves(table);
    expect(all).toHaveLength(512);
    expect(all.every(([, , pages]) => pages === TWO_MIB)).toBe(true);
    expect(all[1]).toEqual([ONE_GIB + TWO_MIB, TWO_MIB * 4, TWO_MIB, RW]);
  });

  it('does not use a 2 MiB leaf when less than 2 MiB remains', () => {
    const table = new PageTable({ levels: 4, pageSizes: ['4K', '2M'] });
    table.map(0, 0, TWO_MIB - 1, RW);
    expect(leaves(table)).toHaveLength(TWO_MIB - 1);
    expect(walk(table, 0).leafLevel).toBe(1);
  });

  it('uses only the sizes the table allows: a 4K-only table maps aligned ranges with 4 KiB leaves', () => {
    const only4k = new PageTable({ levels: 4 });
    only4k.map(0, 0, TWO_MIB, RW);
    expect(leaves(only4k)).toHaveLength(TWO_MIB);
    // A table with 4K and 1G but no 2M uses 4 KiB leaves around a 1G leaf.
    const no2m = new PageTable({ levels: 4, pageSizes: ['4K', '1G'] });
    no2m.map(ONE_GIB - 2, ONE_GIB - 2, ONE_GIB + 4, RW);
    expect(leaves(no2m).map(([, , pages]) => pages)).toEqual([1, 1, ONE_GIB, 1, 1]);
  });

  it('a forced page size is used for every leaf, even where a larger one would fit', () => {
    const table = new PageTable({ levels: 4, pageSizes: ['4K', '2M', '1G'] });
    table.map(ONE_GIB, ONE_GIB, ONE_GIB, RW, '2M');
    expect(leaves(table)).toHaveLength(512);
    expect(leaves(table).every(([, , pages]) => pages === TWO_MIB)).toBe(true);
    table.map(0, 0, TWO_MIB, RW, '4K');
    expect(walk(table, 100)).toMatchObject({ pfn: 100, leafLevel: 1 });
    expect(table.mappedPages).toBe(ONE_GIB + TWO_MIB);
  });

  it('a forced 2 MiB size over 4 MiB gives exactly two 2 MiB leaves', () => {
    const table = new PageTable({ levels: 5, pageSizes: ['4K', '2M'] });
    table.map(TWO_MIB * 10, TWO_MIB * 2, TWO_MIB * 2, PERM_READ | PERM_EXEC, '2M');
    expect(leaves(table)).toEqual([
      [TWO_MIB * 10, TWO_MIB * 2, TWO_MIB, PERM_READ | PERM_EXEC],
      [TWO_MIB * 11, TWO_MIB * 3, TWO_MIB, PERM_READ | PERM_EXEC],
    ]);
  });
});

describe('map refusals leave the table unchanged', () => {
  const setup = () => {
    const table = new PageTable({ levels: 4, pageSizes: ['4K', '2M'] });
    table.map(0x1000, 0x1000, 4, RW);
    table.map(TWO_MIB * 4, TWO_MIB * 4, TWO_MIB, R, '2M');
    return table;
  };
  const probes = [0x1000, 0x1003, 0x1004, TWO_MIB * 4 + 3, 0, TWO_MIB];

  it('refuses a forced size with a misaligned iova, size or frame with EINVAL (reason misaligned)', () => {
    const table = setup();
    expectRefused(table, () => table.map(1, 0, TWO_MIB, RW, '2M'), 'EINVAL', 'misaligned', probes);
    expectRefused(table, () => table.map(0, 0, TWO_MIB + 1, RW, '2M'), 'EINVAL', 'misaligned', probes);
    expectRefused(table, () => table.map(TWO_MIB, 1, TWO_MIB, RW, '2M'), 'EINVAL', 'misaligned', probes);
  });

  it('refuses a forced size the table does not support with EINVAL', () => {
    const table = setup();
    expectRefused(table, () => table.map(0, 0, ONE_GIB, RW, '1G'), 'EINVAL', 'unsupported-page-size', probes);
    expectRefused(
      table,
      () => table.map(0, 0, 1, RW, '3M' as never),
      'EINVAL',
      'unsupported-page-size',
      probes,
    );
  });

  it('refuses a map that overlaps an existing 4 KiB mapping with EEXIST (reason overlap)', () => {
    const table = setup();
    // Ends on the first mapped page.
    expectRefused(table, () => table.map(0xffe, 0x9000, 3, RW), 'EEXIST', 'overlap', probes);
    // Starts on the last mapped page.
    expectRefused(table, () => table.map(0x1003, 0x9000, 10, RW), 'EEXIST', 'overlap', probes);
    // Covers them entirely (page 0x1000 is inside the 2 MiB block 8), with a leaf size that would otherwise fit.
    expectRefused(table, () => table.map(TWO_MIB * 8, 0, TWO_MIB, RW, '2M'), 'EEXIST', 'overlap', probes);
  });

  it('refuses a map that overlaps the inside of a 2 MiB leaf with EEXIST (reason overlap)', () => {
    const table = setup();
    expectRefused(table, () => table.map(TWO_MIB * 4 + 100, 7, 1, RW), 'EEXIST', 'overlap', probes);
    expectRefused(table, () => table.map(TWO_MIB * 5 - 1, 7, 2, RW), 'EEXIST', 'overlap', probes);
    expectRefused(table, () => table.mapPage(TWO_MIB * 4 + 5, 7, RW), 'EEXIST', 'overlap', probes);
  });

  it('refuses out-of-range maps with ERANGE (reason out-of-range)', () => {
    const table = setup();
    expectRefused(table, () => table.map(2 ** 36 - 1, 0, 2, RW), 'ERANGE', 'out-of-range', probes);
    expectRefused(table, () => table.map(2 ** 40, 0, 1, RW), 'ERANGE', 'out-of-range', probes);
    expectRefused(table, () => table.mapPage(2 ** 36, 0, RW), 'ERANGE', 'out-of-range', probes);
  });

  it('refuses negative, fractional and empty ranges with EINVAL (reason bad-range)', () => {
    const table = setup();
    expectRefused(table, () => table.map(-1, 0, 1, RW), 'EINVAL', 'bad-range', probes);
    expectRefused(table, () => table.map(0.5, 0, 1, RW), 'EINVAL', 'bad-range', probes);
    expectRefused(table, () => table.map(0, 0, 0, RW), 'EINVAL', 'bad-range', probes);
    expectRefused(table, () => table.unmap(0x1000, 0), 'EINVAL', 'bad-range', probes);
  });
});

describe('mapPage (the demand-paging path)', () => {
  it('adds one 4 KiB page and refuses a page already mapped, changing nothing', () => {
    const table = new PageTable({ levels: 4, pageSizes: ['4K', '2M'] });
    table.mapPage(3, 30, RW);
    expect(walk(table, 3)).toMatchObject({
      present: true,
      pfn: 30,
      perms: RW,
      leafLevel: 1,
      levelsWalked: 4,
    });
    expectRefused(table, () => table.mapPage(3, 31, R), 'EEXIST', 'overlap', [3]);
    table.mapPage(4, 40, R);
    expect(walk(table, 4)).toMatchObject({ pfn: 40, perms: R });
    expect(table.mappedPages).toBe(2);
  });
});

describe('unmap', () => {
  it('removes whole leaves and reports each one', () => {
    const table = new PageTable({ levels: 4, pageSizes: ['4K', '2M'] });
    table.map(0, TWO_MIB * 8, TWO_MIB, RW, '2M');
    table.map(TWO_MIB, 100, 2, R);
    expect(table.unmap(0, TWO_MIB + 2)).toEqual([
      { page: 0, pfn: TWO_MIB * 8, pages: TWO_MIB, perms: RW },
      { page: TWO_MIB, pfn: 100, pages: 1, perms: R },
      { page: TWO_MIB + 1, pfn: 101, pages: 1, perms: R },
    ]);
    expect(table.mappedPages).toBe(0);
    expect(leaves(table)).toEqual([]);
    expect(walk(table, 5).present).toBe(false);
  });

  it('refuses to unmap a page that is not mapped with ENOENT (reason not-mapped), removing nothing', () => {
    const table = new PageTable({ levels: 4 });
    table.map(10, 100, 3, RW);
    // The first three pages are mapped, the fourth is a hole: nothing may be removed.
    expectRefused(table, () => table.unmap(10, 4), 'ENOENT', 'not-mapped', [10, 11, 12]);
    expectRefused(table, () => table.unmap(9, 2), 'ENOENT', 'not-mapped', [10]);
    expectRefused(table, () => table.unmap(ONE_GIB * 9, 1), 'ENOENT', 'not-mapped', [10]);
    expect(table.mappedPages).toBe(3);
  });

  it('refuses an unmap that would split a large leaf with EINVAL (reason splits-leaf), removing nothing', () => {
    const table = new PageTable({ levels: 4, pageSizes: ['4K', '2M', '1G'] });
    table.map(TWO_MIB - 2, 50, 2, RW);
    table.map(TWO_MIB, TWO_MIB * 4, TWO_MIB, RW, '2M');
    table.map(ONE_GIB, ONE_GIB, ONE_GIB, RW, '1G');
    const probes = [TWO_MIB - 2, TWO_MIB, TWO_MIB + 300, ONE_GIB + 7];
    // Starts inside the 2M leaf.
    expectRefused(table, () => table.unmap(TWO_MIB + 1, 10), 'EINVAL', 'splits-leaf', probes);
    // Starts at the 4K pages, ends inside the 2M leaf: the 4K pages must stay too.
    expectRefused(table, () => table.unmap(TWO_MIB - 2, 2 + 256), 'EINVAL', 'splits-leaf', probes);
    // One page of a 1G leaf.
    expectRefused(table, () => table.unmap(ONE_GIB + 7, 1), 'EINVAL', 'splits-leaf', probes);
    expect(table.mappedPages).toBe(2 + TWO_MIB + ONE_GIB);
  });

  it('refuses an out-of-range unmap with ERANGE', () => {
    const table = new PageTable({ levels: 4 });
    table.map(0, 0, 1, RW);
    expectRefused(table, () => table.unmap(2 ** 36 - 1, 2), 'ERANGE', 'out-of-range', [0]);
  });

  it('frees tables that become empty, back to the root alone', () => {
    const table = new PageTable({ levels: 4 });
    expect(table.tables).toBe(1);
    table.map(0, 1, 1, RW);
    expect(table.tables).toBe(4); // root, level 3, level 2, level 1
    table.map(TWO_MIB, 2, 1, RW); // another level-1 table under the same level-2 table
    expect(table.tables).toBe(5);
    table.unmap(0, 1);
    expect(table.tables).toBe(4);
    expect(walk(table, TWO_MIB)).toMatchObject({ present: true, pfn: 2 });
    table.unmap(TWO_MIB, 1);
    expect(table.tables).toBe(1);
    expect(leaves(table)).toEqual([]);
    expect(walk(table, 0)).toMatchObject({ present: false, levelsWalked: 1 });
  });

  it('frees the tables of a 5-level table and of large leaves too', () => {
    const table = new PageTable({ levels: 5, pageSizes: ['4K', '2M', '1G'] });
    table.map(2 ** 45 - 1, 1, 1, RW);
    expect(table.tables).toBe(5);
    table.map(ONE_GIB, 0, ONE_GIB, RW, '1G');
    table.map(TWO_MIB, TWO_MIB, TWO_MIB, RW, '2M');
    table.unmap(2 ** 45 - 1, 1);
    table.unmap(ONE_GIB, ONE_GIB);
    table.unmap(TWO_MIB, TWO_MIB);
    expect(table.tables).toBe(1);
    expect(table.mappedPages).toBe(0);
  });

  it('reuses freed tables cleanly: a page mapped after a free sees no stale entries', () => {
    const table = new PageTable({ levels: 4 });
    table.map(0, 10, 8, RW);
    table.unmap(0, 8);
    table.map(ONE_GIB * 3, 99, 1, RW);
    expect(table.tables).toBe(4);
    expect(leaves(table)).toEqual([[ONE_GIB * 3, 99, 1, RW]]);
    for (let i = 1; i < 8; i++) expect(walk(table, ONE_GIB * 3 + i).present).toBe(false);
  });

  it('agrees with a simple model over a seeded random sequence of maps and unmaps, and ends with one table', () => {
    const table = new PageTable({ levels: 5 });
    const random = new Random(77);
    const model = new Map<number, number>();
    // A sparse set of candidate pages spread over the 57-bit space, some sharing tables.
    const candidates: number[] = [];
    for (let i = 0; i < 64; i++) {
      const region = random.int(0, 2 ** 20 - 1) * 2 ** 25;
      for (let j = 0; j < 4; j++) candidates.push(region + random.int(0, 2 ** 12));
    }
    for (let step = 0; step < 3000; step++) {
      const page = candidates[random.int(0, candidates.length - 1)]!;
      if (model.has(page)) {
        const [removed] = table.unmap(page, 1);
        expect(removed).toEqual({ page, pfn: model.get(page), pages: 1, perms: RW });
        model.delete(page);
      } else {
        const pfn = random.int(0, 2 ** 30);
        table.map(page, pfn, 1, RW);
        model.set(page, pfn);
      }
    }
    expect(table.mappedPages).toBe(model.size);
    const expected = [...model.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([page, pfn]) => [page, pfn, 1, RW]);
    expect(leaves(table)).toEqual(expected);
    for (const page of candidates) expect(walk(table, page).present).toBe(model.has(page));
    for (const page of [...model.keys()]) table.unmap(page, 1);
    expect(table.tables).toBe(1);
    expect(table.mappedPages).toBe(0);
  });
});

describe('protect', () => {
  it('changes the permissions of present leaves, whole large leaves included, and skips holes', () => {
    const table = new PageTable({ levels: 4, pageSizes: ['4K', '2M'] });
    table.map(10, 100, 2, RW);
    table.map(TWO_MIB, TWO_MIB, TWO_MIB, RW, '2M');
    expect(table.protect(8, 6, R)).toBe(2);
    expect(walk(table, 10)).toMatchObject({ pfn: 100, perms: R });
    expect(walk(table, 11)).toMatchObject({ pfn: 101, perms: R });
    expect(walk(table, 8).present).toBe(false);
    expect(table.protect(TWO_MIB, TWO_MIB, PERM_READ | PERM_EXEC)).toBe(1);
    expect(walk(table, TWO_MIB + 300)).toMatchObject({ pfn: TWO_MIB + 300, perms: PERM_READ | PERM_EXEC });
    expect(table.walkSteps(TWO_MIB).at(-1)).toMatchObject({ prot: 'rx', size: '2M' });
    expect(table.mappedPages).toBe(2 + TWO_MIB);
  });

  it('refuses to change part of a large leaf with EINVAL (reason splits-leaf), changing nothing', () => {
    const table = new PageTable({ levels: 4, pageSizes: ['4K', '2M'] });
    table.map(TWO_MIB - 1, 7, 1, RW);
    table.map(TWO_MIB, TWO_MIB, TWO_MIB, RW, '2M');
    expectRefused(table, () => table.protect(TWO_MIB - 1, 10, R), 'EINVAL', 'splits-leaf', [
      TWO_MIB - 1,
      TWO_MIB,
    ]);
  });
});

describe('walkSteps (the inspector view of a walk)', () => {
  it('shows every level, the index read at each and the leaf it ends on', () => {
    const table = new PageTable({ levels: 4, pageSizes: ['4K', '2M'] });
    // Page 0x8040201 has index 1 at each of the four levels (0x8040201 = 1·512³ + 1·512² + 1·512 + 1).
    table.map(0x8040201, 0xabc, 1, RW);
    const steps = table.walkSteps(0x8040201);
    expect(steps.map((step) => [step.level, step.index, step.entry])).toEqual([
      [4, 1, 'table'],
      [3, 1, 'table'],
      [2, 1, 'table'],
      [1, 1, 'leaf'],
    ]);
    expect(steps[0]!.table).toBe(0);
    expect(new Set(steps.map((step) => step.table)).size).toBe(4);
    expect(steps[3]).toMatchObject({ output: '0xabc000', prot: 'rw', size: '4K' });
  });

  it('stops at an empty entry or at a large leaf, showing the leaf base', () => {
    const table = new PageTable({ levels: 4, pageSizes: ['4K', '2M'] });
    table.map(0, 7, 1, RW);
    expect(table.walkSteps(ONE_GIB).map((step) => [step.level, step.entry])).toEqual([
      [4, 'table'],
      [3, 'empty'],
    ]);
    table.map(TWO_MIB * 2, TWO_MIB * 6, TWO_MIB, R, '2M');
    const steps = table.walkSteps(TWO_MIB * 2 + 9);
    expect(steps.map((step) => step.entry)).toEqual(['table', 'table', 'leaf']);
    expect(steps[2]).toMatchObject({ level: 2, index: 2, output: '0xc00000', prot: 'r', size: '2M' });
  });

  it('refuses a page outside the table with ERANGE', () => {
    const table = new PageTable({ levels: 4 });
    expect(refusal(() => table.walkSteps(2 ** 36))).toMatchObject({ code: 'ERANGE' });
  });
});

describe('addresses above 2^53 stay exact in a 5-level table', () => {
  it('maps the last 4 KiB page of the 57-bit space and reports it exactly', () => {
    const table = new PageTable({ levels: 5 });
    const topPage = 35184372088831; // 2^45 - 1: the page at 0x1fffffffffff000
    const frame = 0xfedcba987;
    table.map(topPage, frame, 1, RW);
    expect(walk(table, topPage)).toEqual({
      present: true,
      pfn: frame,
      perms: RW,
      leafLevel: 1,
      levelsWalked: 5,
    });
    expect(walk(table, topPage - 1).present).toBe(false);

    const all = leaves(table);
    expect(all).toEqual([[35184372088831, 0xfedcba987, 1, RW]]);
    expect(Number.isSafeInteger(all[0]![0])).toBe(true);
    expect(formatAddress(all[0]![0])).toBe('0x1fffffffffff000');
    expect(formatAddress(all[0]![0], 0xfff)).toBe('0x1ffffffffffffff');
    expect(BigInt(formatAddress(all[0]![0])) + 0xfffn).toBe(144115188075855871n); // 2^57 - 1

    const steps = table.walkSteps(topPage);
    expect(steps.map((step) => [step.level, step.index, step.entry])).toEqual([
      [5, 511, 'table'],
      [4, 511, 'table'],
      [3, 511, 'table'],
      [2, 511, 'table'],
      [1, 511, 'leaf'],
    ]);
    expect(steps[4]).toMatchObject({ output: '0xfedcba987000', prot: 'rw', size: '4K' });
    expect(table.unmap(topPage, 1)).toEqual([{ page: topPage, pfn: frame, pages: 1, perms: RW }]);
    expect(table.tables).toBe(1);
  });

  it('keeps neighbouring pages near the top apart (no rounding merges them)', () => {
    const table = new PageTable({ levels: 5 });
    const top = 35184372088831;
    table.map(top - 2, 1, 1, RW);
    table.map(top, 3, 1, RW);
    expect(leaves(table).map(([page, pfn]) => [formatAddress(page), pfn])).toEqual([
      ['0x1ffffffffffd000', 1],
      ['0x1fffffffffff000', 3],
    ]);
    expect(walk(table, top - 1).present).toBe(false);
  });

  it('maps a 1 GiB leaf at the top of the 57-bit space and walks any page inside it exactly', () => {
    const table = new PageTable({ levels: 5, pageSizes: ['4K', '2M', '1G'] });
    const base = 35184371826688; // 2^45 - 2^18: the last 1 GiB, at 0x1ffffffc0000000
    table.map(base, ONE_GIB * 7, ONE_GIB, RW, '1G');
    expect(leaves(table)).toEqual([[35184371826688, ONE_GIB * 7, ONE_GIB, RW]]);
    expect(formatAddress(base)).toBe('0x1ffffffc0000000');
    expect(walk(table, 35184372088831)).toMatchObject({
      pfn: ONE_GIB * 8 - 1,
      leafLevel: 3,
      levelsWalked: 3,
    });
    expect(table.walkSteps(35184372088831).map((step) => [step.index, step.entry])).toEqual([
      [511, 'table'],
      [511, 'table'],
      [511, 'leaf'],
    ]);
  });
});
