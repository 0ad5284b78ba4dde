import { describe, expect, it } from 'vitest';
import { dataExtent, panBy, selection, shownRange, within, zoomAbout } from './x-range';

const extent = { startNs: 0, endNs: 1_000 };

describe("a series chart's x range", () => {
  it('is the first and last x of the data, none without data', () => {
    expect(dataExtent([100, 200, 300])).toEqual({ startNs: 100, endNs: 300 });
    expect(dataExtent([])).toBeNull();
  });

  it('zooms about the pointer: the time under it stays where it is on screen', () => {
    const zoomed = zoomAbout(null, extent, 0.5, 250)!;
    expect(zoomed).toEqual({ startNs: 125, endNs: 625 });
    // 250 ns was a quarter of the way across; it still is.
    expect((250 - zoomed.startNs) / (zoomed.endNs - zoomed.startNs)).toBe(0.25);
  });

  it('zooming out past the data shows the whole data again (no zoom left)', () => {
    const zoomed = zoomAbout(null, extent, 0.5, 500);
    expect(zoomAbout(zoomed, extent, 4, 500)).toBeNull();
  });

  it('stays inside the data when zoomed near an edge', () => {
    expect(zoomAbout({ startNs: 0, endNs: 100 }, extent, 1.5, 0)).toEqual({ startNs: 0, endNs: 150 });
    expect(zoomAbout({ startNs: 900, endNs: 1_000 }, extent, 1.5, 990)).toEqual({
      startNs: 850,
      endNs: 1_000,
    });
  });

  it('pans by a time delta without leaving the data, and the whole data does not pan', () => {
    expect(panBy({ startNs: 100, endNs: 200 }, extent, 50)).toEqual({ startNs: 150, endNs: 250 });
    expect(panBy({ startNs: 100, endNs: 200 }, extent, -500)).toEqual({ startNs: 0, endNs: 100 });
    expect(panBy({ startNs: 800, endNs: 900 }, extent, 500)).toEqual({ startNs: 900, endNs: 1_000 });
    expect(panBy(null, extent, 50)).toBeNull();
  });

  it('takes a dragged span either way round, never narrower than 10 ns', () => {
    expect(selection(600, 200, extent)).toEqual({ startNs: 200, endNs: 600 });
    expect(selection(300, 302, extent)).toEqual({ startNs: 300, endNs: 310 });
    expect(selection(-50, 2_000, extent)).toBeNull();
  });

  it('keeps a range that fits and cuts one wider than the data', () => {
    expect(within({ startNs: 10, endNs: 20 }, extent)).toEqual({ startNs: 10, endNs: 20 });
    expect(within({ startNs: -100, endNs: 5_000 }, extent)).toBeNull();
  });

  it("draws the zoom if there is one, else the data's range; one point gets a span", () => {
    expect(shownRange({ startNs: 5, endNs: 50 }, 0, 1_000)).toEqual([5, 50]);
    expect(shownRange(null, 0, 1_000)).toEqual([0, 1_000]);
    expect(shownRange(null, 400, 400)).toEqual([400, 410]);
  });
});
