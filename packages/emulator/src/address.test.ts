import { describe, expect, it } from 'vitest';
import {
  PAGE_SIZE,
  formatAddress,
  offsetInSpan,
  pageToBigAddress,
  pagesOf,
  pagesPerEntry,
  parseSize,
  splitAddress,
  toBigAddress,
} from './address';
import { refusal } from './testing/refusal';

describe('addresses as page number + offset: exact above 2^53', () => {
  it('round-trips 0xfffffffffffff000 (the last 4 KiB page of the 64-bit space) exactly', () => {
    const { page, offset } = splitAddress('0xfffffffffffff000');
    expect(page).toBe(4503599627370495); // 2^52 - 1, exact as a double
    expect(offset).toBe(0);
    expect(formatAddress(page, offset)).toBe('0xfffffffffffff000');
    expect(pageToBigAddress(page)).toBe(0xfffffffffffff000n);
  });

  it('round-trips addresses above 2^53 whose doubles would be rounded', () => {
    // Each of these differs from its nearest double: Number(BigInt(hex)) would lose the low bits.
    for (const hex of [
      '0xffffffffffffffff',
      '0x1ffffffffffffff',
      '0x20000000000001',
      '0x20000000000fff',
      '0x7f0000001234',
      '0x1000',
      '0xfff',
      '0x0',
    ]) {
      const { page, offset } = splitAddress(hex);
      expect(Number.isSafeInteger(page)).toBe(true);
      expect(formatAddress(page, offset)).toBe(hex);
      expect(pageToBigAddress(page) + BigInt(offset)).toBe(BigInt(hex));
    }
    // The point of the split: the same address as one double is not exact.
    expect(BigInt(Number(0x20000000000001n))).not.toBe(0x20000000000001n);
  });

  it('splits into page and offset: bigints, hex strings and safe integers agree', () => {
    expect(splitAddress(0x12345n)).toEqual({ page: 0x12, offset: 0x345 });
    expect(splitAddress('0x12345')).toEqual({ page: 0x12, offset: 0x345 });
    expect(splitAddress(0x12345)).toEqual({ page: 0x12, offset: 0x345 });
    expect(splitAddress(8192)).toEqual({ page: 2, offset: 0 });
    expect(splitAddress('0xFFF')).toEqual({ page: 0, offset: 0xfff });
    expect(splitAddress(0xffffffffffffffffn)).toEqual({ page: 4503599627370495, offset: 4095 });
  });

  it('formats with the offset padded to three hex digits, and page 0 without padding', () => {
    expect(formatAddress(1)).toBe('0x1000');
    expect(formatAddress(1, 5)).toBe('0x1005');
    expect(formatAddress(0x7f0000001, 0x23)).toBe('0x7f0000001023');
    expect(formatAddress(0, 5)).toBe('0x5');
    expect(formatAddress(0)).toBe('0x0');
  });

  it('accepts the largest bigint and the largest safe integer', () => {
    expect(toBigAddress((1n << 64n) - 1n)).toBe(18446744073709551615n);
    expect(toBigAddress(Number.MAX_SAFE_INTEGER)).toBe(9007199254740991n);
    expect(toBigAddress('0xffffffffffffffff')).toBe(18446744073709551615n);
  });
});

describe('address refusals', () => {
  it('refuses malformed hex strings with EINVAL (reason bad-address)', () => {
    for (const bad of [
      '12',
      '0x',
      '0xg',
      '0X10',
      ' 0x10',
      '0x10 ',
      '0x-1',
      '-0x1',
      '',
      '0x10000000000000000',
    ]) {
      expect(
        refusal(() => toBigAddress(bad)),
        JSON.stringify(bad),
      ).toMatchObject({
        code: 'EINVAL',
        reason: 'bad-address',
      });
    }
  });

  it('refuses negative, fractional and unsafe numbers with EINVAL (reason bad-address)', () => {
    for (const bad of [-1, 1.5, 2 ** 53, 2 ** 60, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(
        refusal(() => toBigAddress(bad)),
        String(bad),
      ).toMatchObject({ code: 'EINVAL', reason: 'bad-address' });
    }
  });

  it('refuses negative and 65-bit bigints with ERANGE (reason out-of-range)', () => {
    for (const bad of [-1n, 1n << 64n, 1n << 80n]) {
      expect(
        refusal(() => toBigAddress(bad)),
        String(bad),
      ).toMatchObject({ code: 'ERANGE', reason: 'out-of-range' });
    }
  });

  it('refuses values that are not addresses at all with EINVAL', () => {
    expect(refusal(() => toBigAddress(null as never))).toMatchObject({ code: 'EINVAL' });
    expect(refusal(() => toBigAddress({} as never))).toMatchObject({ code: 'EINVAL' });
  });

  it('names the field in the message', () => {
    expect(refusal(() => splitAddress('nope', 'iova')).message).toContain('iova');
  });
});

describe('sizes', () => {
  it('parses sizes given as numbers, hex strings or bigints', () => {
    expect(parseSize(4096)).toBe(4096);
    expect(parseSize('0x3000')).toBe(0x3000);
    expect(parseSize(0x200000n)).toBe(0x200000);
  });

  it('refuses zero, negative, fractional, malformed and unsafe sizes with EINVAL', () => {
    expect(refusal(() => parseSize(0))).toMatchObject({ code: 'EINVAL', reason: 'bad-size' });
    expect(refusal(() => parseSize(-4096))).toMatchObject({ code: 'EINVAL', reason: 'bad-size' });
    expect(refusal(() => parseSize(1.5))).toMatchObject({ code: 'EINVAL', reason: 'bad-size' });
    expect(refusal(() => parseSize('0x0'))).toMatchObject({ code: 'EINVAL', reason: 'bad-size' });
    expect(refusal(() => parseSize('0xffffffffffffffff'))).toMatchObject({
      code: 'EINVAL',
      reason: 'bad-size',
    });
    expect(refusal(() => parseSize('4096'))).toMatchObject({ code: 'EINVAL', reason: 'bad-address' });
  });

  it('counts the pages of a size and refuses sizes that are not whole pages with EINVAL (reason misaligned)', () => {
    expect(pagesOf(parseSize('0x3000'))).toBe(3);
    expect(pagesOf(PAGE_SIZE)).toBe(1);
    expect(pagesOf(2 ** 30)).toBe(262144);
    for (const bad of [1, 4095, 4097, 0x1800]) {
      expect(
        refusal(() => pagesOf(bad)),
        String(bad),
      ).toMatchObject({ code: 'EINVAL', reason: 'misaligned' });
    }
    expect(refusal(() => pagesOf(4097, 'mmap length')).message).toContain('mmap length');
  });
});

describe('page-table spans', () => {
  it('covers 1, 512, 512^2 … 4 KiB pages per entry at levels 1 to 5', () => {
    expect([1, 2, 3, 4, 5].map(pagesPerEntry)).toEqual([1, 512, 262144, 134217728, 68719476736]);
  });

  it('offsetInSpan is the page modulo a power-of-two span, exact for pages near 2^52', () => {
    expect(offsetInSpan(1000, 512)).toBe(488);
    expect(offsetInSpan(512, 512)).toBe(0);
    expect(offsetInSpan(4503599627370495, 512)).toBe(511);
    expect(offsetInSpan(4503599627370495, 262144)).toBe(262143);
    expect(offsetInSpan(4503599627370496 - 262144, 262144)).toBe(0);
  });
});
