import { describe, expect, it } from 'vitest';
import { type Frame, FrameScratch, type FrameStats, drawFrame } from './draw';
import { FlowTable } from './flow-table';
import { flowAt } from './hit-test';
import { AXIS_H, GUTTER_W, layoutTracks } from './layout';
import { priFlow } from './test-flows';

/** A 2D context that records what it is asked to draw (rect calls of each fill). */
function recordingContext() {
  let rects = 0;
  const fills: number[] = [];
  const ctx = new Proxy(
    {},
    {
      get(_target, key) {
        if (key === 'rect') return () => rects++;
        if (key === 'fill')
          return () => {
            fills.push(rects);
            rects = 0;
          };
        return () => undefined;
      },
      set: () => true,
    },
  ) as unknown as CanvasRenderingContext2D;
  return { ctx, fills };
}

function frameOver(startNs: number, endNs: number, width = 1200): Frame {
  return { width, height: 800, startNs, endNs, scrollY: 0, selected: -1, related: new Int32Array([-1]) };
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

  it('zoomed out, paints at most a few rectangles per pixel column and row, not one per hop', () => {
    const table = manyFlows();
    const stats: FrameStats = { visited: 0, rects: 0 };
    const { ctx, fills } = recordingContext();
    drawFrame(ctx, table, layoutTracks(table), frameOver(0, 100_000_000, 1200), new FrameScratch(), stats);
    expect(stats.visited).toBe(10_000);
    // Six phases, one fill each; rows: device, queue, handler, address space (one lane each here).
    expect(fills.length).toBeGreaterThanOrEqual(6);
    const columns = 1200 - GUTTER_W;
    expect(stats.rects).toBeLessThanOrEqual(6 * 4 * columns);
    expect(stats.rects).toBeLessThan(table.segs);
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
