/**
 * A PCIe message record (device/pcie-messages.ts: DWs held as little-endian 32-bit numbers) in the byte
 * order the link sends it, for tests that check a message against the spec's byte-by-byte pictures.
 */
import { fail } from '../errors';
import type { RecordLayout } from '../records/bit-layout';

/**
 * A message record's bytes in link order: each DW most significant byte first, and the prefix DW only
 * when the message has a PASID prefix (header DW0 is not in the record, so it is not here either).
 */
export function pcieLinkBytes(layout: RecordLayout, record: Uint8Array): Uint8Array {
  if (record.length !== layout.bytes || layout.bytes % 4 !== 0)
    fail('EINVAL', `${layout.title} is ${layout.bytes} bytes, not ${record.length}.`, { reason: 'size' });
  const hasPrefix = record[3] !== 0; // the prefix's Fmt/Type byte, DW bits 31:24
  const firstDw = hasPrefix ? 0 : 1;
  const out = new Uint8Array(record.length - firstDw * 4);
  for (let dw = firstDw; dw < record.length / 4; dw++)
    for (let i = 0; i < 4; i++) out[(dw - firstDw) * 4 + i] = record[dw * 4 + 3 - i]!;
  return out;
}
