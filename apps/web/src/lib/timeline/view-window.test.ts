import { describe, expect, it } from 'vitest';
import { MIN_SPAN_NS, pan, zoom } from './view-window';

describe('timeline view window', () => {
  it('zooms about the anchor, keeping it at the same place on screen', () => {
    const v = zoom({ startNs: 0, endNs: 1_000 }, 0.5, 250);
    expect(v).toEqual({ startNs: 125, endNs: 625 });
  });
  it('zooms in down to nanoseconds but no further than the minimum span', () => {
    const v = zoom({ startNs: 0, endNs: 100 }, 0.001, 50);
    expect(v.endNs - v.startNs).toBe(MIN_SPAN_NS);
    expect(v.startNs).toBe(45);
  });
  it('pans by a time delta', () => {
    expect(pan({ startNs: 10, endNs: 20 }, -5)).toEqual({ startNs: 5, endNs: 15 });
  });
});
