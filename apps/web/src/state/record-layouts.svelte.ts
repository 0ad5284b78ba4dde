/**
 * The layouts of byte-exact records, fetched once per page (GET /records/layouts): the records events and
 * flows carry name theirs by id, and RecordBytes draws a record from its layout. Until they arrive (or if
 * the fetch fails) a record shows as its hex and field values.
 */
import type { WireLayout } from '@iommu-lab/client';
import { api } from '../lib/client';

class RecordLayouts {
  byId = $state(new Map<string, WireLayout>());
  private asked = false;

  /** Fetches the layouts the first time it is called; later calls do nothing. */
  load(): void {
    if (this.asked) return;
    this.asked = true;
    api
      .recordLayouts()
      .then(({ layouts }) => (this.byId = new Map(layouts.map((layout) => [layout.id, layout]))))
      .catch(() => (this.asked = false));
  }
}

export const recordLayouts = new RecordLayouts();
