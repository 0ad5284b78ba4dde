import { describe, expect, it } from 'vitest';
import { formatAddress, pagesOf, parseSize, splitAddress, toBigAddress } from './address';

describe('addresses as page number + offset', () => {
  it('round-trips 64-bit addresses exactly, far above 2^53', () => {
    for (const hex of ['0xfffffffffffff000', '0x1ffffffffffffff', '0x20000000000001', '0x0', '0x1000']) {
      const { page, offset } = splitAddress(hex);
      expect(formatAddress(page, offset)).toBe(hex);
      expect(BigInt(page) * 4096n + BigInt(offset)).toBe(BigInt(hex));
    }
  });

  it('takes bigints and safe integers too', () => {
    expect(splitAddress(0x12345n)).toEqual({ page: 0x12, offset: 0x345 });
    expect(splitAddress(8192)).toEqual({ page: 2, offset: 0 });
  });

  it('refuses malformed, negative, unsafe and oversized addresses', () => {
    for (const bad of ['12', '0x', '0xg', '0x10000000000000000', -1, 2 ** 60, 1.5, -1n, 1n << 64n]) {
      expect(() => toBigAddress(bad as never)).toThrow(
        expect.objectContaining({ code: expect.stringMatching(/^(EINVAL|ERANGE)$/) }),
      );
    }
  });

  it('counts pages of a size and refuses sizes that are not whole pages', () => {
    expect(pagesOf(parseSize('0x3000'))).toBe(3);
    expect(() => pagesOf(4097)).toThrow(expect.objectContaining({ code: 'EINVAL', reason: 'misaligned' }));
    expect(() => parseSize(0)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});
