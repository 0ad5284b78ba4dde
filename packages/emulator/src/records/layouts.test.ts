import { describe, expect, it } from 'vitest';
import { RECORD_LAYOUTS, describeLayouts } from './layouts';
import { recordLayer } from './record-layer';

describe('the list of record layouts the API serves', () => {
  it('names each layout once, and every layout has a layer', () => {
    const ids = RECORD_LAYOUTS.map((layout) => layout.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(['device', 'iommu', 'kernel', 'user']).toContain(recordLayer(id));
  });

  it('describes every field of every layout with its place, as served', () => {
    for (const [index, description] of describeLayouts().entries())
      expect(description.fields.map((field) => field.name).sort()).toEqual(
        Object.keys(RECORD_LAYOUTS[index]!.fields).sort(),
      );
  });
});
