/**
 * Zoom and pan of a series chart, as uPlot options: drag across the plot to zoom into that span, the wheel
 * zooms about the pointer, shift+drag pans, double-click (or reset) shows all the data. The zoomed range
 * lives here and reaches uPlot through the x scale's range function, so the live chart's setData (once a
 * second) redraws within the person's range instead of snapping back to all the data.
 */
import type uPlot from 'uplot';
import { type XRange, dataExtent, panBy, selection, shownRange, zoomAbout } from '../../lib/charts/x-range';

/** One wheel notch zooms by this factor. */
const WHEEL_FACTOR = 1.25;
/** A drag narrower than this is a click, not a span. */
const MIN_DRAG_PX = 4;

export interface ZoomListener {
  /** The zoom changed (null: all the data is shown). */
  zoomed(range: XRange | null): void;
  /** The x scale was set (by a zoom, a pan, or new data). */
  scaled(minNs: number, maxNs: number): void;
}

export class SimTimeZoom {
  zoomedRange: XRange | null = null;
  private chart: uPlot | null = null;

  constructor(private readonly listener: ZoomListener) {}

  /** The x scale's range: the zoom if there is one, else the data's. */
  readonly range = (_u: uPlot, dataMin: number, dataMax: number): uPlot.Range.MinMax =>
    shownRange(this.zoomedRange, dataMin, dataMax);

  readonly cursor: uPlot.Cursor = {
    drag: { x: true, y: false, setScale: false },
    bind: {
      // Shift+drag pans; a plain drag is uPlot's selection, which setSelect turns into a zoom.
      mousedown: (_u, _target, handler) => (event) => {
        if (event.button !== 0) return null;
        if (event.shiftKey) this.startPan(event);
        else handler(event);
        return null;
      },
      dblclick: () => () => {
        this.reset();
        return null;
      },
    },
  };

  readonly plugin: uPlot.Plugin = {
    hooks: {
      init: (u) => {
        this.chart = u;
        u.over.addEventListener('wheel', this.wheel, { passive: false });
      },
      setSelect: (u) => {
        const { left, width } = u.select;
        const extent = this.extent();
        if (width >= MIN_DRAG_PX && extent)
          this.show(selection(u.posToVal(left, 'x'), u.posToVal(left + width, 'x'), extent));
        u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
      },
      setScale: (u, key) => {
        if (key === 'x') this.listener.scaled(u.scales.x!.min!, u.scales.x!.max!);
      },
      destroy: (u) => {
        u.over.removeEventListener('wheel', this.wheel);
        if (this.chart === u) this.chart = null;
      },
    },
  };

  reset(): void {
    this.show(null);
  }

  /** The data's extent, or null when there is nothing to zoom into (no point, or a single one). */
  private extent(): XRange | null {
    const extent = this.chart ? dataExtent(this.chart.data[0] as readonly number[]) : null;
    return extent && extent.endNs > extent.startNs ? extent : null;
  }

  private show(range: XRange | null): void {
    this.zoomedRange = range;
    const extent = this.extent();
    if (this.chart && extent) {
      const [min, max] = shownRange(range, extent.startNs, extent.endNs);
      this.chart.setScale('x', { min, max });
    }
    this.listener.zoomed(range);
  }

  private readonly wheel = (event: WheelEvent) => {
    const extent = this.extent();
    if (!this.chart || !extent || event.deltaY === 0) return;
    event.preventDefault();
    const anchorNs = this.chart.posToVal(event.clientX - this.chart.over.getBoundingClientRect().left, 'x');
    const factor = event.deltaY < 0 ? 1 / WHEEL_FACTOR : WHEEL_FACTOR;
    this.show(zoomAbout(this.zoomedRange, extent, factor, anchorNs));
  };

  private startPan(down: MouseEvent): void {
    const from = this.zoomedRange;
    const extent = this.extent();
    if (!this.chart || !from || !extent) return;
    const nsPerPx = (from.endNs - from.startNs) / Math.max(1, this.chart.over.clientWidth);
    // Dragging right moves the view back in time, as a map does.
    const move = (event: MouseEvent) =>
      this.show(panBy(from, extent, (down.clientX - event.clientX) * nsPerPx));
    const up = () => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  }
}
