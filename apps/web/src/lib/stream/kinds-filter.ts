/**
 * The stream's kinds filter, without its markup: the event kinds grouped by the layer that emits them, a
 * substring search over them, and the tick state of a group (all, some or none of its shown kinds). The
 * ticked kinds are a plain list in EVENT_KINDS order, the `kinds` of the filter form (lib/filter.ts).
 */
import type { EventKind } from '@iommu-lab/client';
import { EVENT_KINDS } from '../events';
import { KIND_LAYERS, LAYERS, LAYER_TITLES, type Layer } from './layers';

export interface KindGroup {
  layer: Layer;
  title: string;
  /** In EVENT_KINDS order. */
  kinds: readonly EventKind[];
}

export type TickState = 'all' | 'some' | 'none';

/** The kinds by layer, in LAYERS order; a layer without kinds has no group. */
export function groupByLayer(kinds: readonly EventKind[] = EVENT_KINDS): KindGroup[] {
  return LAYERS.map((layer) => ({
    layer,
    title: LAYER_TITLES[layer],
    kinds: kinds.filter((kind) => KIND_LAYERS[kind] === layer),
  })).filter((group) => group.kinds.length > 0);
}

export const KIND_GROUPS: readonly KindGroup[] = groupByLayer();

/** The groups cut down to the kinds whose name holds `query` (any case); groups left empty are dropped. */
export function searchGroups(groups: readonly KindGroup[], query: string): KindGroup[] {
  const needle = query.trim().toLowerCase();
  if (needle === '') return [...groups];
  return groups
    .map((group) => ({ ...group, kinds: group.kinds.filter((kind) => kind.includes(needle)) }))
    .filter((group) => group.kinds.length > 0);
}

/** How many of `kinds` are ticked, as a group checkbox shows it. */
export function tickState(kinds: readonly EventKind[], ticked: ReadonlySet<EventKind>): TickState {
  const count = kinds.filter((kind) => ticked.has(kind)).length;
  if (count === 0) return 'none';
  return count === kinds.length ? 'all' : 'some';
}

/** `ticked` with every one of `kinds` ticked (on) or unticked (off), in EVENT_KINDS order. */
export function setTicked(
  ticked: readonly EventKind[],
  kinds: readonly EventKind[],
  on: boolean,
): EventKind[] {
  const next = new Set(ticked);
  for (const kind of kinds) {
    if (on) next.add(kind);
    else next.delete(kind);
  }
  return EVENT_KINDS.filter((kind) => next.has(kind));
}

/** A group checkbox's click: a fully ticked group is cleared, any other is ticked in full. */
export const toggleGroup = (ticked: readonly EventKind[], kinds: readonly EventKind[]): EventKind[] =>
  setTicked(ticked, kinds, tickState(kinds, new Set(ticked)) !== 'all');

/** The filter's button: "all kinds", "no kinds", or "12 of 53 kinds". */
export function describeTicked(count: number, total: number = EVENT_KINDS.length): string {
  if (count >= total) return 'all kinds';
  if (count === 0) return 'no kinds';
  return `${count} of ${total} kinds`;
}
