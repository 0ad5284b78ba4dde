import { describe, expect, it } from 'vitest';
import { formatAddress } from '../address';
import { EmulatorError } from '../errors';
import { PageTable, newWalkResult } from './page-table';
import { PERM_READ, PERM_WRITE } from './permissions';

const RW = PERM_READ | PERM_WRITE;
const TWO_MIB = 512;
const ONE_GIB = 512 * 512;

function leaves(table: PageTable): [number, number, number][] {
  const out: [number, number, number][] = [];
  table.forEachLeaf((page, pfn, pages) => out.push([page, pfn, pages]));
  return out;
}

function refusal(call: () => unknown): EmulatorError {
  try {
    call();
  } catch (error) {
    if (error instanceof EmulatorError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('IO page tables (reference §8)', () => {
  it('covers 48 bits with 4 levels and 57 bits with 5 levels', () => {
    expect(new PageTable({ levels: 4 }).pageLimit).toBe(2 ** 36);
    expect(new PageTable({ levels: 5 }).pageLimit).toBe(2 ** 45);
  });

  it('maps and walks 4 KiB pages, counting the levels a walk reads', () => {
    const table = new PageTable({ levels: 4 });
    table.map(0x100, 0x2000, 3, RW);
    const out = newWalkResult();
    expect(table.walk(0x101, out)).toBe(true);
    expect(out).toMatchObject({ pfn: 0x2001, perms: RW, leafLevel: 1, levelsWalked: 4 });
    expect(table.walk(0x103, out)).toBe(false);
    expect(out.levelsWalked).toBe(4);
    expect(table.walk(512 * 512, out)).toBe(false);
    expect(out.levelsWalked).toBe(2); // the root entry leads on, the level-3 entry for that range is empty
    expect(table.walk(2 ** 30, out)).toBe(false);
    expect(out.levelsWalked).toBe(1); // the root entry itself is empty
    expect(table.mappedPages).toBe(3);
  });

  it('uses the largest leaf the alignment of both addresses and the length allow (iommu_pgsize)', () => {
    const table = new PageTable({ levels: 4, pageSizes: ['4K', '2M', '1G'] });
    // 1 GiB + 2 MiB + 4 KiB, all aligned: one 1G leaf, one 2M leaf, one 4K leaf.
    table.map(ONE_GIB, ONE_GIB, ONE_GIB + TWO_MIB + 1, RW);
    expect(leaves(table).map(([, , pages]) => pages)).toEqual([ONE_GIB, TWO_MIB, 1]);
    // A physical address that is only 4 KiB aligned forces 4 KiB leaves.
    const other = new PageTable({ levels: 4, pageSizes: ['4K', '2M'] });
    other.map(TWO_MIB, TWO_MIB + 1, TWO_MIB, RW);
    expect(leaves(other)).toHaveLength(TWO_MIB);
  });

  it('walks to the right frame at any offset inside a large leaf', () => {
    const table = new PageTable({ levels: 4, pageSizes: ['4K', '2M', '1G'] });
    table.map(0, ONE_GIB * 3, ONE_GIB, RW, '1G');
    const out = newWalkResult();
    table.walk(12345, out);
    expect(out).toMatchObject({ pfn: ONE_GIB * 3 + 12345, leafLevel: 3, levelsWalked: 2 });
  });

  it('refuses misaligned, unsupported-size, overlapping and out-of-range maps, changing nothing', () => {
    const table = new PageTable({ levels: 4, pageSizes: ['4K', '2M'] });
    table.map(0x1000, 0x1000, 4, RW);
    const before = JSON.stringify(leaves(table));
    expect(refusal(() => table.map(1, 0, TWO_MIB, RW, '2M'))).toMatchObject({
      code: 'EINVAL',
      reason: 'misaligned',
    });
    expect(refusal(() => table.map(0, 1, TWO_MIB, RW, '2M'))).toMatchObject({
      code: 'EINVAL',
      reason: 'misaligned',
    });
    expect(refusal(() => table.map(0, 0, ONE_GIB, RW, '1G'))).toMatchObject({
      code: 'EINVAL',
      reason: 'unsupported-page-size',
    });
    expect(refusal(() => table.map(0xffe, 0x9000, 4, RW))).toMatchObject({
      code: 'EEXIST',
      reason: 'overlap',
    });
    expect(refusal(() => table.map(0x1000 - TWO_MIB + 512, 0, TWO_MIB, RW))).toMatchObject({
      code: 'EEXIST',
    });
    expect(refusal(() => table.map(2 ** 36 - 1, 0, 2, RW))).toMatchObject({
      code: 'ERANGE',
      reason: 'out-of-range',
    });
    expect(JSON.stringify(leaves(table))).toBe(before);
    expect(table.mappedPages).toBe(4);
  });

  it('unmaps whole leaves, refuses holes and split large leaves, and frees empty tables', () => {
    const table = new PageTable({ levels: 4, pageSizes: ['4K', '2M'] });
    table.map(0, 0, TWO_MIB, RW, '2M');
    table.map(TWO_MIB, TWO_MIB, 2, RW);
    const tablesWithMappings = table.tables;
    expect(refusal(() => table.unmap(0, 1))).toMatchObject({ code: 'EINVAL', reason: 'splits-leaf' });
    expect(refusal(() => table.unmap(TWO_MIB, 3))).toMatchObject({ code: 'ENOENT', reason: 'not-mapped' });
    expect(table.mappedPages).toBe(TWO_MIB + 2);
    const removed = table.unmap(0, TWO_MIB + 2);
    expect(removed.map((leaf) => leaf.pages)).toEqual([TWO_MIB, 1, 1]);
    expect(table.mappedPages).toBe(0);
    expect(tablesWithMappings).toBeGreaterThan(1);
    expect(table.tables).toBe(1);
  });

  it('keeps addresses above 2^53 exact in a 5-level table', () => {
    const table = new PageTable({ levels: 5 });
    const topPage = 2 ** 45 - 1; // last page of the 57-bit space
    table.map(topPage, 0x12345, 1, RW);
    const out = newWalkResult();
    expect(table.walk(topPage, out)).toBe(true);
    expect(out.pfn).toBe(0x12345);
    expect(formatAddress(topPage, 0xfff)).toBe('0x1ffffffffffffff');
    expect(BigInt(formatAddress(topPage)) + 0xfffn).toBe((1n << 57n) - 1n);
    expect(leaves(table)).toEqual([[topPage, 0x12345, 1]]);
    const steps = table.walkSteps(topPage);
    expect(steps.map((step) => step.index)).toEqual([511, 511, 511, 511, 511]);
    expect(steps.at(-1)).toMatchObject({ entry: 'leaf', output: '0x12345000', size: '4K' });
  });

  it('protect() changes permissions of present leaves and skips holes', () => {
    const table = new PageTable({ levels: 4 });
    table.map(10, 100, 2, RW);
    expect(table.protect(8, 6, PERM_READ)).toBe(2);
    const out = newWalkResult();
    table.walk(11, out);
    expect(out.perms).toBe(PERM_READ);
  });

  it('walkSteps reports empty entries where a walk stops', () => {
    const table = new PageTable({ levels: 4 });
    table.map(0, 7, 1, RW);
    expect(table.walkSteps(512 * 512).map((step) => step.entry)).toEqual(['table', 'empty']);
  });

  it('mapPage adds one 4 KiB page and refuses a page that is already mapped', () => {
    const table = new PageTable({ levels: 4, pageSizes: ['4K', '2M'] });
    table.mapPage(3, 30, RW);
    expect(refusal(() => table.mapPage(3, 31, RW))).toMatchObject({ code: 'EEXIST' });
    table.map(TWO_MIB, TWO_MIB, TWO_MIB, RW, '2M');
    expect(refusal(() => table.mapPage(TWO_MIB + 5, 1, RW))).toMatchObject({ code: 'EEXIST' });
    expect(table.mappedPages).toBe(1 + TWO_MIB);
  });
});
