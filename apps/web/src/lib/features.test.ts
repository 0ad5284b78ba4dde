import { describe, expect, it } from 'vitest';
import { orderingHint } from './features';

describe('orderingHint', () => {
  it('warns about SVA before IOPF, unless the device handles its own faults', () => {
    expect(orderingHint('SVA', true, [])).toMatch(/IOPF/);
    expect(orderingHint('SVA', true, [], true)).toBeNull();
    expect(orderingHint('SVA', true, ['IOPF'])).toBeNull();
  });

  it('warns about IOPF off while SVA is on', () => {
    expect(orderingHint('IOPF', false, ['IOPF', 'SVA'])).toMatch(/SVA before IOPF/);
    expect(orderingHint('IOPF', false, ['IOPF'])).toBeNull();
    expect(orderingHint('SVA', false, ['IOPF', 'SVA'])).toBeNull();
  });
});
