/**
 * The stream's filter form → the subscribe filter the server applies. Empty fields mean "any", except the
 * kinds, which are the ones ticked (all of them by default: no kinds list is sent then); PASIDs are typed
 * as a list where "none" (or "-") stands for requests without a PASID.
 */
import type { Category, EventKind, StreamFilter } from '@iommu-lab/client';
import { EVENT_KINDS } from './events';

export interface FilterForm {
  devices: string[];
  pasids: string;
  /** The kinds ticked in the kinds filter, in EVENT_KINDS order. */
  kinds: EventKind[];
  categories: Category[];
  stages: (1 | 2)[];
}

export const emptyFilterForm = (): FilterForm => ({
  devices: [],
  pasids: '',
  kinds: [...EVENT_KINDS],
  categories: [],
  stages: [],
});

/** A form the server cannot be asked for; `code` is stable, the message a sentence for the person. */
export class FilterError extends Error {
  constructor(
    readonly code: 'bad-pasid' | 'no-kinds',
    message: string,
  ) {
    super(message);
  }
}

/** "1, 2 none" → [1, 2, null]; throws FilterError on anything else. */
export function parsePasids(text: string): (number | null)[] {
  const parts = text
    .split(/[\s,]+/)
    .map((part) => part.trim())
    .filter(Boolean);
  return parts.map((part) => {
    if (/^(none|-|null)$/i.test(part)) return null;
    const value = /^0x[0-9a-f]+$/i.test(part) ? Number.parseInt(part, 16) : Number(part);
    if (!Number.isInteger(value) || value < 0 || value >= 2 ** 20) {
      throw new FilterError('bad-pasid', `"${part}" is not a PASID (0 to 2^20 - 1, or "none")`);
    }
    return value;
  });
}

export function buildFilter(form: FilterForm): StreamFilter {
  const filter: StreamFilter = {};
  if (form.devices.length > 0) filter.devices = [...form.devices];
  const pasids = parsePasids(form.pasids);
  if (pasids.length > 0) filter.pasids = pasids;
  if (form.kinds.length === 0) {
    throw new FilterError('no-kinds', 'No event kind is ticked: tick at least one kind, or "all".');
  }
  // Every kind ticked is no filter at all: the server then also sends kinds added after the page loaded.
  if (EVENT_KINDS.some((kind) => !form.kinds.includes(kind))) filter.kinds = [...form.kinds];
  if (form.categories.length > 0) filter.categories = [...form.categories];
  if (form.stages.length > 0) filter.stages = [...form.stages];
  return filter;
}

/** The filter in a few words, for the status line. */
export function describeFilter(filter: StreamFilter): string {
  const parts: string[] = [];
  if (filter.devices) parts.push(`devices ${filter.devices.join(', ')}`);
  if (filter.pasids) parts.push(`PASIDs ${filter.pasids.map((p) => (p === null ? 'none' : p)).join(', ')}`);
  if (filter.kinds) parts.push(`${filter.kinds.length} kind(s)`);
  if (filter.categories) parts.push(`categories ${filter.categories.join(', ')}`);
  if (filter.stages) parts.push(`stages ${filter.stages.join(', ')}`);
  return parts.length > 0 ? parts.join(' · ') : 'everything';
}
