import { describe, expect, it } from 'vitest';
import {
  DENSE_FLOWS,
  type Frame,
  FrameScratch,
  type FrameStats,
  drawFrame,
  laneY,
  newFrame,
  pixelOf,
} from './draw';
import { FlowTable } from './flow-table';
import { flowAt } from './hit-test';
import { AXIS_H, GUTTER_W, layoutTracks } from './layout';
import { PHASE_COLOURS } from './phases';
import { priFlow } from './test-flows';

/** A 2D context that records the fill colours it is given and keeps the last image put (else no-ops). */
function recordingContext() {
  const fills: string[] = [];
  const put: { image: { width: number; height: number; data: Uint8ClampedArray } | null } = { image: null };
  const ctx = new Proxy(
    {},
    {
      get(_target, key) {
        if (key === 'createImageData')
          return (width: number, height: number) => ({
            width,
            height,
            data: new Uint8ClampedArray(width * height * 4),
          });
        if (key === 'putImageData') return (image: typeof put.image) => (put.image = image);
        return () => undefined;
      },
      set(_target, key, value) {
        if (key === 'fillStyle') fills.push(value as string);
        return true;
      },
    },
  ) as unknown as CanvasRenderingContext2D;
  return { ctx, fills, put };
}

function frameOver(startNs: number, endNs: number, width = 1200): Frame {
  return { ...newFrame(width, 800), startNs, endNs };
}

/** 10 000 flows 10 µs apart, 2 µs each, on one device. */
function manyFlows(): FlowTable {
  const table = new FlowTable(() => 'app');
  for (let i = 0; i < 10_000; i++) table.add(priFlow(i + 1, i * 10_000));
  return table;
}

describe('drawing a timeline frame', () => {
  it('visits only the flows that touch the visible range', () => {
    const table = manyFlows();
    const stats: FrameStats = { visited: 0, rects: 0 };
    const { ctx } = recordingContext();
    drawFrame(ctx, table, layoutTracks(table), frameOver(1_000_000, 1_100_000), new FrameScratch(), stats);
    // Flows 100…110 start in [1 ms, 1.1 ms]; flow 99 ends at 992 µs, before it.
    expect(stats.visited).toBe(11);
  });

  it('few flows in view: fillRect one phase colour at a time, never one per hop', () => {
    const table = manyFlows();
    const stats: FrameStats = { visited: 0, rects: 0 };
    const { ctx, fills, put } = recordingContext();
    drawFrame(ctx, table, layoutTracks(table), frameOver(0, 5_000_000, 1200), new FrameScratch(), stats);
    expect(stats.visited).toBeLessThanOrEqual(DENSE_FLOWS);
    expect(put.image).toBeNull();
    // Background, bands, six phases, gutter and axis: a handful of colours, not one per hop.
    expect(fills.length).toBeLessThan(40);
    expect(stats.rects).toBeGreaterThan(0);
  });

  it('zoomed out past DENSE_FLOWS: the bars are pixels in one image, each in its phase colour', () => {
    const table = manyFlows();
    const layout = layoutTracks(table);
    const stats: FrameStats = { visited: 0, rects: 0 };
    const { ctx, put } = recordingContext();
    const frame = frameOver(0, 100_000_000, 1000 + GUTTER_W); // 100 µs per px
    drawFrame(ctx, table, layout, frame, new FrameScratch(), stats);
    expect(stats.visited).toBe(10_000);
    const image = put.image!;
    expect([image.width, image.height]).toEqual([frame.width, frame.height]);
    const pixels = new Uint32Array(image.data.buffer);
    // Flow 5001 starts at 50 ms: pixel column 500 of the device track holds one of its phases' colours.
    const y = Math.round(laneY(layout, 0, 0, 0)) + 1;
    const colours = new Set(PHASE_COLOURS.map(pixelOf));
    expect(colours.has(pixels[y * image.width + GUTTER_W + 500]!)).toBe(true);
    // Below the last track nothing is drawn: the background stays white.
    const below = Math.round(AXIS_H + layout.height + 10);
    expect(pixels[below * image.width + GUTTER_W + 500]).toBe(pixelOf('#ffffff'));
    expect(pixelOf('#ff0000')).toBe(0xff0000ff);
  });

  it('a click finds the flow whose bar is under the pointer, and nothing between bars', () => {
    const table = manyFlows();
    const layout = layoutTracks(table);
    const frame = frameOver(0, 100_000, 1000 + GUTTER_W); // 100 ns per px
    const deviceTop = AXIS_H + layout.top[0]! + 5;
    expect(flowAt(table, layout, frame, GUTTER_W + 10, deviceTop)).toBe(0); // 1 µs: flow 1
    expect(flowAt(table, layout, frame, GUTTER_W + 305, deviceTop)).toBe(3); // 30.5 µs: flow 4
    expect(flowAt(table, layout, frame, GUTTER_W + 60, deviceTop)).toBe(-1); // 6 µs: between flows
    expect(flowAt(table, layout, frame, 10, deviceTop)).toBe(-1); // the gutter
  });
});
