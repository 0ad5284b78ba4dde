/**
 * The page side of the timeline frame benchmark, bundled by timeline-frame.ts and run in Chromium: the
 * timeline's own drawing (lib/timeline/draw.ts over the flow table) and, as the baseline, the same
 * rectangles drawn the simplest way a canvas renderer would: every hop of every flow, each with its own
 * fillStyle and fillRect, no culling, no batching. Both on the same canvas, each frame ended by a one-pixel
 * read so that the time includes the rasterisation the draw calls queued.
 */
import { FrameScratch, type FrameStats, drawFrame, newFrame } from '../src/lib/timeline/draw';
import { FlowTable, type TimelineFlow } from '../src/lib/timeline/flow-table';
import { AXIS_H, GUTTER_W, barHeight, layoutTracks } from '../src/lib/timeline/layout';
import { PHASE_COLOURS } from '../src/lib/timeline/phases';

export interface PageBench {
  /** Loads flows; returns how many and the span they cover (ns). */
  load(flows: TimelineFlow[]): { flows: number; startNs: number; endNs: number };
  /** Median ms per frame over `frames` frames panning across [startNs, endNs] with a window of `spanNs`. */
  frames(renderer: 'timeline' | 'naive', frames: number, spanNs: number): number;
  /** What the timeline's last frame did: flows visited, rectangles filled, and the naive one's rectangles. */
  lastFrame(): { visited: number; rects: number; naiveRects: number };
}

const WIDTH = 1440;
const HEIGHT = 560;

function setup(): PageBench {
  const canvas = document.createElement('canvas');
  canvas.width = WIDTH;
  canvas.height = HEIGHT;
  document.body.append(canvas);
  const ctx = canvas.getContext('2d')!;
  let table = new FlowTable();
  let layout = layoutTracks(table);
  let startNs = 0;
  let endNs = 1;
  const scratch = new FrameScratch();
  const stats: FrameStats = { visited: 0, rects: 0 };
  const frame = newFrame(WIDTH, HEIGHT);

  /** The baseline: every segment, its own fill. */
  function naive(): void {
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, WIDTH, HEIGHT);
    const scale = (WIDTH - GUTTER_W) / (frame.endNs - frame.startNs);
    for (let b = 0; b < table.bars; b++) {
      const track = table.barTrack[b]!;
      const laneH = layout.laneH[track]!;
      const y = AXIS_H + layout.top[track]! + table.barLane[b]! * laneH + 2;
      const to = table.firstSeg[b]! + table.segCount[b]!;
      for (let s = table.firstSeg[b]!; s < to; s++) {
        ctx.fillStyle = PHASE_COLOURS[table.segPhase[s]!]!;
        const x = GUTTER_W + (table.segStart[s]! - frame.startNs) * scale;
        ctx.fillRect(x, y, Math.max(1, (table.segEnd[s]! - table.segStart[s]!) * scale), barHeight(laneH));
      }
    }
  }

  return {
    load(flows) {
      table = new FlowTable((flow) => (flow.pasid === null ? null : `pasid ${flow.pasid}`));
      for (const flow of flows) table.add(flow);
      layout = layoutTracks(table);
      startNs = Infinity;
      for (let i = 0; i < table.count; i++) startNs = Math.min(startNs, table.startNs[i]!);
      endNs = table.endNs[table.count - 1]!;
      return { flows: table.count, startNs, endNs };
    },
    frames(renderer, frames, spanNs) {
      const times: number[] = [];
      const travel = Math.max(0, endNs - startNs - spanNs);
      for (let i = 0; i < frames; i++) {
        frame.startNs = startNs + (travel * i) / Math.max(1, frames - 1);
        frame.endNs = frame.startNs + spanNs;
        const started = performance.now();
        if (renderer === 'timeline') drawFrame(ctx, table, layout, frame, scratch, stats);
        else naive();
        ctx.getImageData(0, 0, 1, 1);
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      return times[times.length >> 1]!;
    },
    lastFrame: () => ({ visited: stats.visited, rects: stats.rects, naiveRects: table.segs }),
  };
}

(window as unknown as { timelineBench: PageBench }).timelineBench = setup();
