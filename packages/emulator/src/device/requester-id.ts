/**
 * Requester IDs. A PCIe function is named by bus:device.function, packed as bus<<8 | device<<3 | function;
 * a platform device behind SMMUv3 by its StreamID.
 */
import { fail } from '../errors';
import type { DeviceKind } from './device-capabilities';

export function parseRid(input: number | string, kind: DeviceKind): number {
  if (typeof input === 'number') {
    const limit = kind === 'pci' ? 0xffff : 0xffffffff;
    if (!Number.isInteger(input) || input < 0 || input > limit)
      fail('EINVAL', `requester id ${input} must be 0..${limit}.`, { reason: 'bad-rid' });
    return input;
  }
  const match = /^([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/.exec(input);
  if (kind !== 'pci' || !match) {
    fail(
      'EINVAL',
      `requester id ${JSON.stringify(input)} must be a PCI bus:device.function like "00:02.0" (or a number).`,
      {
        reason: 'bad-rid',
      },
    );
  }
  const bus = Number.parseInt(match[1]!, 16);
  const device = Number.parseInt(match[2]!, 16);
  if (device > 31) fail('EINVAL', `PCI device number ${device} must be 0..31.`, { reason: 'bad-rid' });
  return (bus << 8) | (device << 3) | Number(match[3]);
}

export function formatRid(rid: number, kind: DeviceKind): string {
  if (kind !== 'pci') return `sid:${rid}`;
  const hex = (value: number) => value.toString(16).padStart(2, '0');
  return `${hex(rid >> 8)}:${hex((rid >> 3) & 31)}.${rid & 7}`;
}
