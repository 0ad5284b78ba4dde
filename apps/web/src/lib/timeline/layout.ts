/**
 * Where each track sits: tracks grouped by kind (devices, IOMMU queues, handlers, address spaces), by label
 * within a kind, each as tall as its lanes. Recomputed only when a track or a lane is added.
 */
import { type FlowTable, MAX_LANES, TRACK_KINDS, type TrackKind } from './flow-table';

/** The header above the tracks: the time ticks, then the strip of flows started per bin (series-strip.ts). */
export const TICKS_H = 26;
export const STRIP_H = 34;
export const AXIS_H = TICKS_H + STRIP_H;
export const SECTION_H = 18;
/** A lane's height: 14 px while a track has few, thinner as it needs more (a track stays under ~130 px). */
export const LANE_H = 14;
export function laneHeight(lanes: number): number {
  return lanes <= 6 ? LANE_H : Math.max(4, Math.floor(96 / lanes));
}
/** A bar's height in its lane: a gap between lanes while they are tall enough to afford it. */
export function barHeight(laneH: number): number {
  return laneH >= 10 ? laneH - 3 : laneH - 1;
}
export const TRACK_PAD = 4;
export const GUTTER_W = 190;

export const SECTION_TITLES: Record<TrackKind, string> = {
  dma: 'DMA transactions: submission to completion',
  device: 'Devices (per PASID): whole fault flows',
  queue: 'IOMMU hardware queues: time in the queue; line: occupancy (series)',
  handler: 'Fault handlers',
  'address space': 'CPU address spaces: mm faults',
};

export interface Layout {
  version: number;
  /** Track indices in drawing order. */
  order: number[];
  /** Top of each track (by track index), in css px from the top of the tracks area (below the axis). */
  top: Float64Array;
  /** Lane height of each track (by track index). */
  laneH: Float64Array;
  /** Section headers: kind and top. */
  sections: { kind: TrackKind; top: number }[];
  /** Height of everything below the axis. */
  height: number;
}

const collator = new Intl.Collator('en', { numeric: true });

export function layoutTracks(table: FlowTable): Layout {
  const order = table.tracks
    .map((_, i) => i)
    .sort((a, b) => {
      const ta = table.tracks[a]!;
      const tb = table.tracks[b]!;
      return (
        TRACK_KINDS.indexOf(ta.kind) - TRACK_KINDS.indexOf(tb.kind) || collator.compare(ta.label, tb.label)
      );
    });
  const top = new Float64Array(table.tracks.length);
  const laneH = new Float64Array(table.tracks.length);
  const sections: Layout['sections'] = [];
  let y = 0;
  let kind: TrackKind | null = null;
  for (const index of order) {
    const track = table.tracks[index]!;
    if (track.kind !== kind) {
      kind = track.kind;
      sections.push({ kind, top: y });
      y += SECTION_H;
    }
    top[index] = y;
    laneH[index] = laneHeight(track.lanes);
    y += trackHeight(track.lanes);
  }
  return { version: table.layoutVersion, order, top, laneH, sections, height: y };
}

export function trackHeight(lanes: number): number {
  const n = Math.min(lanes, MAX_LANES);
  return n * laneHeight(n) + TRACK_PAD;
}
