/**
 * Fixed-height virtual rows (@tanstack/svelte-virtual) for a scrolling element: the one place its store-based
 * API meets runes. Call during a component's setup; `count` and `element` are read in an effect, and
 * setOptions runs untracked so that the store's notification does not re-run that effect.
 */
import { createVirtualizer } from '@tanstack/svelte-virtual';
import { untrack } from 'svelte';
import { get } from 'svelte/store';

export function virtualRows(
  count: () => number,
  element: () => HTMLDivElement | null,
  rowHeight: number,
  overscan: number,
) {
  const virtualizer = createVirtualizer<HTMLDivElement, HTMLDivElement>({
    count: 0,
    getScrollElement: element,
    estimateSize: () => rowHeight,
    overscan,
  });
  $effect(() => {
    const rows = count();
    const scroller = element();
    untrack(() => get(virtualizer).setOptions({ count: rows, getScrollElement: () => scroller }));
  });
  return virtualizer;
}
