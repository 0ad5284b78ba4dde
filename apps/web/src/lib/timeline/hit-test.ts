/**
 * Which flow is under the pointer: the bar on that lane whose span is nearest the pointer's time, within a
 * few pixels (a bar narrower than a pixel is still drawn one pixel wide, so it must be clickable too).
 */
import type { FlowTable } from './flow-table';
import { MAX_LANES } from './flow-table';
import type { Frame } from './draw';
import { AXIS_H, GUTTER_W, type Layout } from './layout';

const SLOP_PX = 3;

/** The flow index under (x, y) in css px, or -1. */
export function flowAt(table: FlowTable, layout: Layout, frame: Frame, x: number, y: number): number {
  if (x < GUTTER_W || y < AXIS_H) return -1;
  const tracksY = y - AXIS_H + frame.scrollY;
  let track = -1;
  let lane = -1;
  for (const index of layout.order) {
    const top = layout.top[index]!;
    const lanes = Math.min(table.tracks[index]!.lanes, MAX_LANES);
    const laneH = layout.laneH[index]!;
    if (tracksY >= top && tracksY < top + lanes * laneH + 2) {
      track = index;
      lane = Math.min(lanes - 1, Math.floor((tracksY - top - 2) / laneH));
      break;
    }
  }
  if (track < 0 || lane < 0) return -1;
  const nsPerPx = (frame.endNs - frame.startNs) / (frame.width - GUTTER_W);
  const at = frame.startNs + (x - GUTTER_W) * nsPerPx;
  const slop = SLOP_PX * nsPerPx;
  let best = -1;
  let bestDistance = Infinity;
  const last = table.lastStartingBefore(at + slop);
  for (let f = table.firstEndingAfter(at - slop); f < last; f++) {
    const to = table.firstBar[f]! + table.barCount[f]!;
    for (let b = table.firstBar[f]!; b < to; b++) {
      if (table.barTrack[b] !== track || table.barLane[b] !== lane) continue;
      const start = table.barStart[b]!;
      const end = Math.max(table.barEnd[b]!, start + nsPerPx);
      const distance = at < start ? start - at : at > end ? at - end : 0;
      if (distance <= slop && distance < bestDistance) {
        best = f;
        bestDistance = distance;
      }
    }
  }
  return best;
}
