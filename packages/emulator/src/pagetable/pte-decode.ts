/**
 * A walk's entries as the hardware would hold them: the raw 64-bit entry and its bits by name, per
 * format. Only for a walk someone asked to see (walkSteps); the translation path never calls this.
 *
 * Formats (reference §8):
 * - VT-d second-level (VT-d spec §9.8, Linux intel/iommu.h DMA_PTE_*): R 0, W 1, X 2, PS 7, A 8, D 9,
 *   address [51:12]; present ⇔ R|W.
 * - VT-d first-level = IA-32e (VT-d spec §9.7, Intel SDM 4.5): P 0, R/W 1, U/S 2, A 5, D 6, PS 7,
 *   address [51:12], XD 63.
 * - Arm LPAE stage 1 / stage 2 (Arm ARM D8.3, Linux io-pgtable-arm.c ARM_LPAE_PTE_*): valid 0, table/page 1
 *   (0 at a block), AP[2:1] 7:6 (stage 1: AP[2] read-only, AP[1] EL0) or S2AP 7:6 (read 6, write 7),
 *   AF 10, address [47:12], PXN 53 / UXN (XN) 54 (stage 2: XN 54).
 * Assumptions: tables are not frames of the modelled physical memory; table n of a page table is shown at
 * TABLE_REGION + n·4 KiB, so a parent's pointer and its child's address agree. A/D are not modelled
 * (shown 0 on VT-d); Arm leaves carry AF=1, as io-pgtable-arm installs them.
 */
import { PERM_EXEC, PERM_PRIV, PERM_READ, PERM_WRITE } from './permissions';

export type PteFormat = 'vtd-sl' | 'vtd-fl' | 'arm-s1' | 'arm-s2';

/** Where the lab shows page-table pages: 1 TiB, above any modelled frame. */
export const TABLE_REGION = 1n << 40n;

export interface DecodedBit {
  name: string;
  /** Bit number, or "hi:lo" for a field. */
  bits: string;
  value: number | string;
}

export function tableAddress(table: number): bigint {
  return TABLE_REGION + BigInt(table) * 4096n;
}

const bit = (on: boolean | number, n: number): bigint => (on ? 1n << BigInt(n) : 0n);

/** The raw entry: a table pointer (`next` table node) or a leaf (`pfn`, perms) at `level`. */
export function encodeEntry(
  format: PteFormat,
  entry:
    | { kind: 'table'; next: number }
    | { kind: 'leaf'; pfn: number; perms: number; level: number }
    | { kind: 'empty' },
): bigint {
  if (entry.kind === 'empty') return 0n;
  const arm = format === 'arm-s1' || format === 'arm-s2';
  if (entry.kind === 'table') {
    const address = tableAddress(entry.next);
    // VT-d: a pointer is present with R|W (and first-level P, R/W, U/S) so the leaf decides; Arm: valid|table.
    if (arm) return address | 0b11n;
    return address | (format === 'vtd-fl' ? 0b111n : 0b11n);
  }
  const { pfn, perms, level } = entry;
  const address = BigInt(pfn) * 4096n;
  const r = (perms & PERM_READ) !== 0;
  const w = (perms & PERM_WRITE) !== 0;
  const x = (perms & PERM_EXEC) !== 0;
  const priv = (perms & PERM_PRIV) !== 0;
  switch (format) {
    case 'vtd-sl':
      return address | bit(r, 0) | bit(w, 1) | bit(x, 2) | bit(level > 1, 7);
    case 'vtd-fl':
      return address | 1n | bit(w, 1) | bit(!priv, 2) | bit(level > 1, 7) | bit(!x, 63);
    case 'arm-s1':
      // AP[2]=1 read-only, AP[1]=1 EL0 (unprivileged) access; UXN/PXN when not executable.
      return (
        address |
        1n |
        bit(level === 1, 1) |
        bit(!w, 7) |
        bit(!priv, 6) |
        bit(1, 10) |
        bit(!x, 53) |
        bit(!x, 54)
      );
    case 'arm-s2':
      return address | 1n | bit(level === 1, 1) | bit(r, 6) | bit(w, 7) | bit(1, 10) | bit(!x, 54);
  }
}

const on = (raw: bigint, n: number): number => Number((raw >> BigInt(n)) & 1n);

/** The entry's bits by name, as the format defines them. */
export function decodeEntry(format: PteFormat, raw: bigint, level: number): DecodedBit[] {
  const field = (name: string, hi: number, lo: number, value: number | string): DecodedBit => ({
    name,
    bits: hi === lo ? String(lo) : `${hi}:${lo}`,
    value,
  });
  const addressMask = format === 'arm-s1' || format === 'arm-s2' ? (1n << 48n) - 4096n : (1n << 52n) - 4096n;
  const address = `0x${(raw & addressMask).toString(16)}`;
  switch (format) {
    case 'vtd-sl':
      return [
        field('R', 0, 0, on(raw, 0)),
        field('W', 1, 1, on(raw, 1)),
        field('X', 2, 2, on(raw, 2)),
        field('PS', 7, 7, on(raw, 7)),
        field('A', 8, 8, on(raw, 8)),
        field('D', 9, 9, on(raw, 9)),
        field('ADDR', 51, 12, address),
      ];
    case 'vtd-fl':
      return [
        field('P', 0, 0, on(raw, 0)),
        field('R/W', 1, 1, on(raw, 1)),
        field('U/S', 2, 2, on(raw, 2)),
        field('A', 5, 5, on(raw, 5)),
        field('D', 6, 6, on(raw, 6)),
        field('PS', 7, 7, on(raw, 7)),
        field('ADDR', 51, 12, address),
        field('XD', 63, 63, on(raw, 63)),
      ];
    case 'arm-s1':
      return [
        field('VALID', 0, 0, on(raw, 0)),
        field(level === 1 ? 'PAGE' : 'TABLE', 1, 1, on(raw, 1)),
        field('AP[1] (EL0)', 6, 6, on(raw, 6)),
        field('AP[2] (RO)', 7, 7, on(raw, 7)),
        field('AF', 10, 10, on(raw, 10)),
        field('OA', 47, 12, address),
        field('PXN', 53, 53, on(raw, 53)),
        field('UXN', 54, 54, on(raw, 54)),
      ];
    case 'arm-s2':
      return [
        field('VALID', 0, 0, on(raw, 0)),
        field(level === 1 ? 'PAGE' : 'TABLE', 1, 1, on(raw, 1)),
        field('S2AP[0] (R)', 6, 6, on(raw, 6)),
        field('S2AP[1] (W)', 7, 7, on(raw, 7)),
        field('AF', 10, 10, on(raw, 10)),
        field('OA', 47, 12, address),
        field('XN', 54, 54, on(raw, 54)),
      ];
  }
}

export function hex64(raw: bigint): string {
  return `0x${raw.toString(16).padStart(16, '0')}`;
}
