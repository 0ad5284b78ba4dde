/**
 * One frame of the timeline on a 2D canvas, in css px (the caller scales for devicePixelRatio).
 *
 * The bars are drawn from the flow table's typed arrays with nothing allocated. Only flows that can touch
 * the visible time range are visited (binary search on their sorted ends). Then one of two painters, by
 * density, both measured by bench/timeline-frame.ts:
 * - few flows in view: fillRect, one colour at a time (a fillStyle per phase, not per hop), a bar
 *   skipped where its row already has that colour up to its right edge;
 * - many (zoomed out): the bars are written as pixels into a reused ImageData and put once, since at that
 *   density each bar is a pixel or two wide and the canvas's per-call cost, not the pixels, is the frame
 *   (tens of thousands of fillRect calls measured ~30 ms for 10 000 flows).
 * Outlines, arrows, the gutter and the axis are drawn over either with the canvas; the axis formats its
 * few tick labels.
 */
import { type FlowTable, MAX_LANES } from './flow-table';
import {
  AXIS_H,
  GUTTER_W,
  LANE_H,
  type Layout,
  SECTION_H,
  SECTION_TITLES,
  STRIP_H,
  TICKS_H,
  barHeight,
  trackHeight,
} from './layout';
import { BAR_COLOURS, TRANSACTION_SEGMENT } from './phases';
import type { TimelineSeries } from './series-strip';
import { formatSimTime, tickStep } from './time-axis';

export interface Frame {
  /** Css px. */
  width: number;
  height: number;
  startNs: number;
  endNs: number;
  /** Vertical scroll of the tracks area, css px. */
  scrollY: number;
  /** Device pixels per css px (the canvas's backing store is width·dpr wide). */
  dpr: number;
  /** Flow index selected, or -1. */
  selected: number;
  /** Flow indices outlined as related to the selection (its group, its transaction); -1 ends the list. */
  related: Int32Array;
  /** The lab's or run's series (flows started, queue occupancy), or null while there are none. */
  series: TimelineSeries | null;
}

/** A frame to reuse from one draw to the next (its fields are set before each). */
export function newFrame(width: number, height: number): Frame {
  return {
    width,
    height,
    startNs: 0,
    endNs: 1,
    scrollY: 0,
    dpr: 1,
    selected: -1,
    related: new Int32Array([-1]),
    series: null,
  };
}

/** Cause arrows of every visible flow are drawn only when this few are visible (else they are noise). */
export const ARROW_LIMIT = 400;

/** Above this many flows in view, bars are written as pixels (see the header). */
export const DENSE_FLOWS = 1000;

/** Scratch the frame reuses: the right edge painted per row in the current colour, the pixel buffer. */
export class FrameScratch {
  rowEdge = new Float64Array(0);
  image: ImageData | null = null;
  pixels = new Uint32Array(0);
  ensure(tracks: number): void {
    if (this.rowEdge.length < tracks * MAX_LANES) this.rowEdge = new Float64Array(tracks * MAX_LANES * 2);
  }
  /** The pixel buffer for a backing store of w × h, made again only when the size changes. */
  buffer(ctx: CanvasRenderingContext2D, w: number, h: number): Uint32Array {
    if (!this.image || this.image.width !== w || this.image.height !== h) {
      this.image = ctx.createImageData(w, h);
      this.pixels = new Uint32Array(this.image.data.buffer);
    }
    return this.pixels;
  }
}

/** '#rrggbb' as one RGBA pixel of a little-endian Uint32Array over ImageData. */
export function pixelOf(hex: string): number {
  const rgb = Number.parseInt(hex.slice(1), 16);
  return ((0xff << 24) | ((rgb & 0xff) << 16) | (rgb & 0xff00) | ((rgb >> 16) & 0xff)) >>> 0;
}
const BAR_PIXELS = Uint32Array.from(BAR_COLOURS, pixelOf);
const BAND_PIXELS = Uint32Array.from(['#f6f8fb', '#ffffff'], pixelOf);
const WHITE = pixelOf('#ffffff');

export interface FrameStats {
  /** Flows visited (those that can touch the range). */
  visited: number;
  /** Rectangles filled. */
  rects: number;
}

export function xOf(ns: number, frame: Frame): number {
  return GUTTER_W + ((ns - frame.startNs) / (frame.endNs - frame.startNs)) * (frame.width - GUTTER_W);
}

/** The top of a bar's lane in css px on the canvas. */
export function laneY(layout: Layout, track: number, lane: number, scrollY: number): number {
  return AXIS_H + layout.top[track]! + lane * layout.laneH[track]! + 2 - scrollY;
}

export function drawFrame(
  ctx: CanvasRenderingContext2D,
  table: FlowTable,
  layout: Layout,
  frame: Frame,
  scratch: FrameScratch,
  stats: FrameStats,
): void {
  const { width, height, startNs, endNs } = frame;
  const first = table.firstEndingAfter(startNs);
  const last = table.lastStartingBefore(endNs);
  stats.visited = 0;
  stats.rects = 0;
  for (let f = first; f < last; f++)
    if (table.startNs[f]! <= endNs && table.endNs[f]! >= startNs) stats.visited++;
  if (stats.visited > DENSE_FLOWS) paintPixels(ctx, table, layout, frame, scratch, stats, first, last);
  else {
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, width, height);
    drawTrackBands(ctx, table, layout, frame);
    paintRects(ctx, table, layout, frame, scratch, stats, first, last);
  }

  if (stats.visited <= ARROW_LIMIT) drawCauseArrows(ctx, table, layout, frame, first, last, '#9aa5b1');
  for (let r = 0; r < frame.related.length && frame.related[r]! >= 0; r++)
    outlineFlow(ctx, table, layout, frame, frame.related[r]!, '#14233a', 1);
  if (frame.selected >= 0) {
    outlineFlow(ctx, table, layout, frame, frame.selected, '#000000', 2);
    drawFlowChain(ctx, table, layout, frame, frame.selected);
    const cause = table.causeIndex[frame.selected]!;
    if (cause >= 0)
      arrow(
        ctx,
        ...barEnd(table, layout, frame, table.firstBar[cause]!),
        ...barStart(table, layout, frame, table.firstBar[frame.selected]!),
        '#c0392b',
      );
  }
  drawOccupancy(ctx, table, layout, frame);
  drawGutter(ctx, table, layout, frame);
  drawAxis(ctx, frame);
}

/** Bars with fillRect, one phase colour at a time, skipping what a row already shows in that colour. */
function paintRects(
  ctx: CanvasRenderingContext2D,
  table: FlowTable,
  layout: Layout,
  frame: Frame,
  scratch: FrameScratch,
  stats: FrameStats,
  first: number,
  last: number,
): void {
  const { width, height, startNs, endNs, scrollY } = frame;
  const scale = (width - GUTTER_W) / (endNs - startNs);
  scratch.ensure(table.tracks.length);
  const edge = scratch.rowEdge;
  for (let phase = 0; phase < BAR_COLOURS.length; phase++) {
    edge.fill(-Infinity);
    ctx.fillStyle = BAR_COLOURS[phase]!;
    for (let f = first; f < last; f++) {
      if (table.startNs[f]! > endNs || table.endNs[f]! < startNs) continue;
      const barTo = table.firstBar[f]! + table.barCount[f]!;
      for (let b = table.firstBar[f]!; b < barTo; b++) {
        const track = table.barTrack[b]!;
        const lane = table.barLane[b]!;
        const y = laneY(layout, track, lane, scrollY);
        const h = barHeight(layout.laneH[track]!);
        if (y + h < AXIS_H || y > height) continue;
        const row = track * MAX_LANES + lane;
        const segTo = table.firstSeg[b]! + table.segCount[b]!;
        for (let s = table.firstSeg[b]!; s < segTo; s++) {
          if (table.segPhase[s] !== phase) continue;
          let x0 = GUTTER_W + (table.segStart[s]! - startNs) * scale;
          let x1 = GUTTER_W + (table.segEnd[s]! - startNs) * scale;
          if (x1 < GUTTER_W || x0 > width) continue;
          if (x0 < GUTTER_W) x0 = GUTTER_W;
          if (x1 > width) x1 = width;
          if (x1 - x0 < 1) x1 = x0 + 1;
          // Back-to-back transactions on one lane stay told apart by a pixel's gap.
          else if (phase === TRANSACTION_SEGMENT && x1 - x0 > 3) x1 -= 1;
          if (x1 <= edge[row]! + 0.5) continue;
          if (x0 < edge[row]!) x0 = edge[row]!;
          edge[row] = x1;
          ctx.fillRect(x0, y, x1 - x0, h);
          stats.rects++;
        }
      }
    }
  }
}

/** Background, track bands and bars written as device pixels into the reused buffer, put in one call. */
function paintPixels(
  ctx: CanvasRenderingContext2D,
  table: FlowTable,
  layout: Layout,
  frame: Frame,
  scratch: FrameScratch,
  stats: FrameStats,
  first: number,
  last: number,
): void {
  const { startNs, endNs, scrollY, dpr } = frame;
  const w = Math.max(1, Math.round(frame.width * dpr));
  const h = Math.max(1, Math.round(frame.height * dpr));
  const px = scratch.buffer(ctx, w, h);
  px.fill(WHITE);
  const left = Math.round(GUTTER_W * dpr);
  const top = Math.round(AXIS_H * dpr);
  for (let i = 0; i < layout.order.length; i++) {
    const track = layout.order[i]!;
    const y0 = Math.max(top, Math.round((AXIS_H + layout.top[track]! - scrollY) * dpr));
    const y1 = Math.min(
      h,
      Math.round((AXIS_H + layout.top[track]! + trackHeight(table.tracks[track]!.lanes) - scrollY) * dpr),
    );
    for (let y = y0; y < y1; y++) px.fill(BAND_PIXELS[i % 2]!, y * w + left, y * w + w);
  }
  const scale = ((frame.width - GUTTER_W) * dpr) / (endNs - startNs);
  for (let f = first; f < last; f++) {
    if (table.startNs[f]! > endNs || table.endNs[f]! < startNs) continue;
    const barTo = table.firstBar[f]! + table.barCount[f]!;
    for (let b = table.firstBar[f]!; b < barTo; b++) {
      const track = table.barTrack[b]!;
      const yTop = laneY(layout, track, table.barLane[b]!, scrollY);
      const y0 = Math.max(top, Math.round(yTop * dpr));
      const y1 = Math.min(h, Math.round((yTop + barHeight(layout.laneH[track]!)) * dpr));
      if (y1 <= y0) continue;
      const segTo = table.firstSeg[b]! + table.segCount[b]!;
      for (let s = table.firstSeg[b]!; s < segTo; s++) {
        let x0 = left + Math.floor((table.segStart[s]! - startNs) * scale);
        let x1 = left + Math.ceil((table.segEnd[s]! - startNs) * scale);
        if (x1 <= left || x0 >= w) continue;
        if (x0 < left) x0 = left;
        if (x1 > w) x1 = w;
        if (x1 <= x0) x1 = x0 + 1;
        else if (table.segPhase[s] === TRANSACTION_SEGMENT && x1 - x0 > 3) x1 -= 1;
        const colour = BAR_PIXELS[table.segPhase[s]!]!;
        for (let y = y0; y < y1; y++) {
          const row = y * w;
          for (let x = x0; x < x1; x++) px[row + x] = colour;
        }
        stats.rects++;
      }
    }
  }
  ctx.putImageData(scratch.image!, 0, 0);
}

function drawTrackBands(ctx: CanvasRenderingContext2D, table: FlowTable, layout: Layout, frame: Frame): void {
  for (let i = 0; i < layout.order.length; i++) {
    const track = layout.order[i]!;
    const y = AXIS_H + layout.top[track]! - frame.scrollY;
    const h = trackHeight(table.tracks[track]!.lanes);
    if (y + h < AXIS_H || y > frame.height) continue;
    ctx.fillStyle = i % 2 === 0 ? '#f6f8fb' : '#ffffff';
    ctx.fillRect(GUTTER_W, y, frame.width - GUTTER_W, h);
  }
}

function drawGutter(ctx: CanvasRenderingContext2D, table: FlowTable, layout: Layout, frame: Frame): void {
  ctx.fillStyle = '#eef2f7';
  ctx.fillRect(0, AXIS_H, GUTTER_W, frame.height - AXIS_H);
  ctx.textBaseline = 'middle';
  ctx.font = '11px system-ui, sans-serif';
  for (const track of layout.order) {
    const y = AXIS_H + layout.top[track]! - frame.scrollY;
    if (y + LANE_H < AXIS_H || y > frame.height) continue;
    ctx.fillStyle = '#14233a';
    ctx.fillText(table.tracks[track]!.label, 8, y + LANE_H / 2 + 2, GUTTER_W - 12);
  }
  ctx.font = 'bold 11px system-ui, sans-serif';
  for (const section of layout.sections) {
    const y = AXIS_H + section.top - frame.scrollY;
    if (y + SECTION_H < AXIS_H || y > frame.height) continue;
    ctx.fillStyle = '#dde5f0';
    ctx.fillRect(0, y, frame.width, SECTION_H - 2);
    ctx.fillStyle = '#14233a';
    ctx.fillText(SECTION_TITLES[section.kind], 6, y + SECTION_H / 2 - 1);
  }
}

function drawAxis(ctx: CanvasRenderingContext2D, frame: Frame): void {
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, frame.width, AXIS_H);
  ctx.strokeStyle = '#c9d3df';
  ctx.beginPath();
  ctx.moveTo(0, TICKS_H - 0.5);
  ctx.lineTo(frame.width, TICKS_H - 0.5);
  ctx.moveTo(0, AXIS_H - 0.5);
  ctx.lineTo(frame.width, AXIS_H - 0.5);
  ctx.stroke();
  const step = tickStep(frame.endNs - frame.startNs, Math.max(2, Math.floor((frame.width - GUTTER_W) / 110)));
  ctx.fillStyle = '#33475b';
  ctx.font = '11px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  ctx.fillText('simulated time', 8, TICKS_H / 2);
  ctx.beginPath();
  for (let t = Math.ceil(frame.startNs / step) * step; t <= frame.endNs; t += step) {
    const x = xOf(t, frame);
    ctx.moveTo(x + 0.5, TICKS_H - 6);
    ctx.lineTo(x + 0.5, TICKS_H);
    ctx.fillText(formatSimTime(t, step), x + 3, TICKS_H / 2 - 2);
  }
  ctx.stroke();
  drawRateStrip(ctx, frame);
}

/**
 * The highest value of `counts` over the bins under each pixel column from x, merged into runs of equal
 * value: calls `run(x0, x1, value)` per run. Bins wider than a pixel repeat; narrower ones are maxed.
 */
function columns(
  frame: Frame,
  series: TimelineSeries,
  counts: Float64Array,
  run: (x0: number, x1: number, value: number) => void,
): void {
  const nsPerPx = (frame.endNs - frame.startNs) / (frame.width - GUTTER_W);
  let from = GUTTER_W;
  let current = -1;
  for (let x = GUTTER_W; x < frame.width; x++) {
    const t0 = frame.startNs + (x - GUTTER_W) * nsPerPx;
    const i0 = Math.max(0, Math.floor((t0 - series.startNs) / series.binNs));
    const i1 = Math.min(counts.length - 1, Math.floor((t0 + nsPerPx - series.startNs) / series.binNs));
    let value = 0;
    for (let i = i0; i <= i1; i++) value = Math.max(value, counts[i]!);
    if (value !== current) {
      if (current >= 0) run(from, x, current);
      from = x;
      current = value;
    }
  }
  if (current >= 0) run(from, frame.width, current);
}

/** Flows started per bin (the series), as bars under the ticks, scaled to the busiest bin. */
function drawRateStrip(ctx: CanvasRenderingContext2D, frame: Frame): void {
  const series = frame.series;
  ctx.fillStyle = '#33475b';
  ctx.fillText('flows started', 8, TICKS_H + STRIP_H / 2 - 6);
  if (!series || series.maxFlows === 0) {
    ctx.fillText('(no series yet)', 8, TICKS_H + STRIP_H / 2 + 7);
    return;
  }
  ctx.fillText(
    `per ${formatSimTime(series.binNs, series.binNs)}, ≤ ${series.maxFlows}`,
    8,
    TICKS_H + STRIP_H / 2 + 7,
  );
  ctx.fillStyle = '#4e79a7';
  const bottom = AXIS_H - 2;
  const room = STRIP_H - 6;
  columns(frame, series, series.flowsStarted, (x0, x1, value) => {
    if (value === 0) return;
    const h = Math.max(1, (value / series.maxFlows) * room);
    ctx.fillRect(x0, bottom - h, x1 - x0, h);
  });
}

/** Each IOMMU's hardware-queue occupancy (series) as a step line over its queue track. */
function drawOccupancy(ctx: CanvasRenderingContext2D, table: FlowTable, layout: Layout, frame: Frame): void {
  const series = frame.series;
  if (!series || series.maxOccupancy === 0) return;
  ctx.strokeStyle = 'rgba(20, 35, 58, 0.55)';
  ctx.lineWidth = 1;
  for (const index of layout.order) {
    const track = table.tracks[index]!;
    if (track.kind !== 'queue') continue;
    const counts = series.occupancy.get(track.key.slice('queue|'.length));
    if (!counts) continue;
    const top = AXIS_H + layout.top[index]! - frame.scrollY + 2;
    const height = trackHeight(track.lanes) - 4;
    if (top + height < AXIS_H || top > frame.height) continue;
    ctx.beginPath();
    columns(frame, series, counts, (x0, x1, value) => {
      const y = top + height - (value / series.maxOccupancy) * height;
      ctx.lineTo(x0, y);
      ctx.lineTo(x1, y);
    });
    ctx.stroke();
  }
}

/** The left middle and right middle of a bar, css px. */
function barStart(table: FlowTable, layout: Layout, frame: Frame, b: number): [number, number] {
  return [
    xOf(table.barStart[b]!, frame),
    laneY(layout, table.barTrack[b]!, table.barLane[b]!, frame.scrollY) +
      barHeight(layout.laneH[table.barTrack[b]!]!) / 2,
  ];
}
function barEnd(table: FlowTable, layout: Layout, frame: Frame, b: number): [number, number] {
  return [
    xOf(table.barEnd[b]!, frame),
    laneY(layout, table.barTrack[b]!, table.barLane[b]!, frame.scrollY) +
      barHeight(layout.laneH[table.barTrack[b]!]!) / 2,
  ];
}

function outlineFlow(
  ctx: CanvasRenderingContext2D,
  table: FlowTable,
  layout: Layout,
  frame: Frame,
  flow: number,
  colour: string,
  lineWidth: number,
): void {
  ctx.strokeStyle = colour;
  ctx.lineWidth = lineWidth;
  const to = table.firstBar[flow]! + table.barCount[flow]!;
  for (let b = table.firstBar[flow]!; b < to; b++) {
    const x0 = xOf(table.barStart[b]!, frame);
    const x1 = Math.max(xOf(table.barEnd[b]!, frame), x0 + 1);
    const y = laneY(layout, table.barTrack[b]!, table.barLane[b]!, frame.scrollY);
    ctx.strokeRect(x0 - 1, y - 1, x1 - x0 + 2, barHeight(layout.laneH[table.barTrack[b]!]!) + 2);
  }
  ctx.lineWidth = 1;
}

/** The selected flow's path across tracks: device → queue → handler → address space, and back to the device. */
function drawFlowChain(
  ctx: CanvasRenderingContext2D,
  table: FlowTable,
  layout: Layout,
  frame: Frame,
  flow: number,
): void {
  const first = table.firstBar[flow]!;
  const to = first + table.barCount[flow]!;
  for (let b = first + 1; b < to; b++) {
    arrow(ctx, ...barStart(table, layout, frame, first), ...barStart(table, layout, frame, b), '#14233a');
    arrow(ctx, ...barEnd(table, layout, frame, b), ...barEnd(table, layout, frame, first), '#14233a');
  }
}

function drawCauseArrows(
  ctx: CanvasRenderingContext2D,
  table: FlowTable,
  layout: Layout,
  frame: Frame,
  first: number,
  last: number,
  colour: string,
): void {
  for (let f = first; f < last; f++) {
    const cause = table.causeIndex[f]!;
    if (cause < 0 || table.startNs[f]! > frame.endNs || table.endNs[f]! < frame.startNs) continue;
    arrow(
      ctx,
      ...barEnd(table, layout, frame, table.firstBar[cause]!),
      ...barStart(table, layout, frame, table.firstBar[f]!),
      colour,
    );
  }
}

/** A causal arrow (Perfetto's flow arrows): a curve from (x0, y0) to (x1, y1) with a head. */
function arrow(
  ctx: CanvasRenderingContext2D,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  colour: string,
): void {
  ctx.strokeStyle = colour;
  ctx.fillStyle = colour;
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  const mid = (x0 + x1) / 2;
  ctx.bezierCurveTo(mid, y0, mid, y1, x1, y1);
  ctx.stroke();
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - 5, y1 - 3);
  ctx.lineTo(x1 - 5, y1 + 3);
  ctx.closePath();
  ctx.fill();
}
