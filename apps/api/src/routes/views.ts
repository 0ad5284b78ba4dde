/** Views of one thing inside a lab, cut from the emulator's describe() picture. */
import type { System } from '@iommu-lab/emulator';
import { HttpError } from '../plugins/errors';

function pick<T extends { id: string }>(items: T[], id: string, what: string): T {
  const item = items.find((candidate) => candidate.id === id);
  if (!item) throw new HttpError(404, 'ENOENT', `no ${what} ${JSON.stringify(id)}.`, `no-such-${what}`);
  return item;
}

export const iommuView = (system: System, id: string) => ({
  ...pick(system.describe().iommus, id, 'iommu'),
  queues: system.metrics().queues[id],
});
export const deviceView = (system: System, id: string) => pick(system.describe().devices, id, 'device');
export const domainView = (system: System, id: string) => pick(system.describe().domains, id, 'domain');
export const processView = (system: System, id: string) => pick(system.describe().processes, id, 'process');
