import { describe, expect, it } from 'vitest';
import { describeAttach, deviceControls, orderingHint } from './features';

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

describe('deviceControls', () => {
  it('offers no feature toggles under mainline, which refuses them, and shows IOPF as implicit', () => {
    expect(deviceControls('mainline')).toEqual({ toggles: false, implicitIopf: true, categories: false });
  });
  it('keeps the toggles under seed-5.13 and adds the categories under the proposal', () => {
    expect(deviceControls('seed-5.13')).toEqual({ toggles: true, implicitIopf: false, categories: false });
    expect(deviceControls('proposal')).toEqual({ toggles: true, implicitIopf: false, categories: true });
  });
  it('names an attachment by PASID or RID', () => {
    expect(describeAttach({ domain: 'sva-app', pasid: 1 })).toBe('sva-app at PASID 1');
    expect(describeAttach({ domain: 'guest', pasid: null })).toBe('guest at the RID');
  });
});
