/**
 * Addresses. Inside the emulator an address is a page number plus an offset inside the 4 KiB page, both
 * plain numbers: page numbers of 57-bit (or 64-bit) addresses stay below 2^52, so they are exact as
 * doubles, where a full address above 2^53 would not be. Public entry points take a bigint or a hex
 * string and split it once; events and the wire carry hex strings.
 */
import { fail } from './errors';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
/** Entries per page-table level (x86-64, VT-d and Arm LPAE with a 4 KiB granule: 9 bits a level). */
export const ENTRIES_PER_TABLE = 512;
/** Addresses are at most 64 bits; page numbers at most 52 bits. */
export const MAX_PAGE_EXCLUSIVE = 2 ** 52;

const PAGE_SIZE_BIG = 4096n;

/** A value a caller may give as an address: a bigint, a hex string ('0x…'), or a safe integer. */
export type AddressInput = bigint | string | number;

export function toBigAddress(input: AddressInput, what = 'address'): bigint {
  if (typeof input === 'bigint') {
    if (input < 0n || input >= 1n << 64n)
      fail('ERANGE', `${what} ${input} is outside 0..2^64-1.`, { reason: 'out-of-range' });
    return input;
  }
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input < 0) {
      fail('EINVAL', `${what} ${input} is not a non-negative safe integer; give a hex string instead.`, {
        reason: 'bad-address',
      });
    }
    return BigInt(input);
  }
  if (typeof input !== 'string' || !/^0x[0-9a-fA-F]{1,16}$/.test(input)) {
    fail(
      'EINVAL',
      `${what} ${JSON.stringify(input)} is not a hex string like "0x7f0000001000" (at most 16 digits).`,
      {
        reason: 'bad-address',
      },
    );
  }
  return BigInt(input);
}

export interface SplitAddress {
  page: number;
  offset: number;
}

export function splitAddress(input: AddressInput, what = 'address'): SplitAddress {
  const value = toBigAddress(input, what);
  return { page: Number(value / PAGE_SIZE_BIG), offset: Number(value % PAGE_SIZE_BIG) };
}

/** Exact hex of page * 4096 + offset, without ever forming the full address as a double. */
export function formatAddress(page: number, offset = 0): string {
  const low = offset.toString(16).padStart(3, '0');
  return page === 0 ? `0x${offset.toString(16)}` : `0x${page.toString(16)}${low}`;
}

export function pageToBigAddress(page: number): bigint {
  return BigInt(page) * PAGE_SIZE_BIG;
}

/**
 * A size in bytes: a safe integer or a hex string. Sizes are exact as numbers (a lab never maps 2^53 bytes),
 * and must be a whole number of 4 KiB pages where the caller says so.
 */
export function parseSize(input: number | string | bigint, what = 'size'): number {
  const value = typeof input === 'number' ? input : Number(toBigAddress(input, what));
  if (!Number.isSafeInteger(value) || value <= 0)
    fail('EINVAL', `${what} ${String(input)} must be a positive integer.`, { reason: 'bad-size' });
  return value;
}

export function pagesOf(sizeBytes: number, what = 'size'): number {
  if (sizeBytes % PAGE_SIZE !== 0) {
    fail('EINVAL', `${what} 0x${sizeBytes.toString(16)} is not a multiple of 4 KiB.`, {
      reason: 'misaligned',
    });
  }
  return sizeBytes / PAGE_SIZE;
}

/** Page size names used in configs and capabilities, and the leaf level each one lives at. */
export const PAGE_SIZES = { '4K': 1, '2M': 2, '1G': 3 } as const;
export type PageSizeName = keyof typeof PAGE_SIZES;

/**
 * page mod span for a power-of-two span, without `%`: on doubles V8 compiles `%` to a call to fmod,
 * which dominates a hot path; floor and multiply stay exact below 2^53.
 */
export function offsetInSpan(page: number, span: number): number {
  return page - Math.floor(page / span) * span;
}

const SPANS = [0, 1, 512, 512 ** 2, 512 ** 3, 512 ** 4, 512 ** 5];

/** 4 KiB pages covered by one entry at `level` (1 = PTE, 2 = PDE, 3 = PDPTE, …, 6 at most). */
export function pagesPerEntry(level: number): number {
  return SPANS[level]!;
}
