import { describe, expect, it } from 'vitest';
import type { EventKind } from '@iommu-lab/client';
import { EVENT_KINDS } from '../events';
import {
  KIND_GROUPS,
  describeTicked,
  groupByLayer,
  searchGroups,
  setTicked,
  tickState,
  toggleGroup,
} from './kinds-filter';
import { LAYERS } from './layers';

describe('kinds grouped by layer', () => {
  it('puts every kind in exactly one group, groups in layer order, none empty', () => {
    expect(KIND_GROUPS.flatMap((group) => group.kinds).sort()).toEqual([...EVENT_KINDS].sort());
    const order = KIND_GROUPS.map((group) => LAYERS.indexOf(group.layer));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(KIND_GROUPS.every((group) => group.kinds.length > 0)).toBe(true);
    // No kind falls to "other" today, so it has no group.
    expect(KIND_GROUPS.map((group) => group.layer)).not.toContain('other');
  });

  it('titles each group for a person', () => {
    const device = KIND_GROUPS.find((group) => group.layer === 'device')!;
    expect(device.title).toMatch(/^Device/);
    expect(device.kinds).toContain('dma.faulted');
  });

  it('groups only the kinds it is given', () => {
    expect(groupByLayer(['fault.group', 'dma.page'])).toEqual([
      expect.objectContaining({ layer: 'device', kinds: ['dma.page'] }),
      expect.objectContaining({ layer: 'driver', kinds: ['fault.group'] }),
    ]);
  });
});

describe('searchGroups', () => {
  it('keeps the kinds whose name holds the text, in any case, and drops emptied groups', () => {
    const found = searchGroups(KIND_GROUPS, '  DMA ');
    expect(found.map((group) => group.layer)).toEqual(['device']);
    expect(found[0]!.kinds).toEqual([
      'dma.page',
      'dma.completed',
      'dma.faulted',
      'dma.aborted',
      'dma.retried',
    ]);
  });

  it('finds a kind across layers by part of its name', () => {
    const found = searchGroups(KIND_GROUPS, 'invalidated');
    expect(found.map((group) => [group.layer, group.kinds])).toEqual([
      ['device', ['atc.invalidated']],
      ['iommu', ['iotlb.invalidated']],
    ]);
  });

  it('shows every group for an empty search and none for a search that matches nothing', () => {
    expect(searchGroups(KIND_GROUPS, '')).toEqual(KIND_GROUPS);
    expect(searchGroups(KIND_GROUPS, 'no-such-kind')).toEqual([]);
  });
});

describe('ticking', () => {
  const dma: EventKind[] = ['dma.page', 'dma.completed', 'dma.faulted'];

  it('tells all, some or none of a group', () => {
    expect(tickState(dma, new Set(dma))).toBe('all');
    expect(tickState(dma, new Set<EventKind>(['dma.page', 'fault.group']))).toBe('some');
    expect(tickState(dma, new Set<EventKind>(['fault.group']))).toBe('none');
  });

  it('ticks and unticks a set of kinds, keeping the list in EVENT_KINDS order', () => {
    const ticked = setTicked(['fault.group'], ['dma.faulted', 'dma.page'], true);
    expect(ticked).toEqual(['dma.page', 'dma.faulted', 'fault.group']);
    expect(setTicked(ticked, ['dma.page', 'fault.group'], false)).toEqual(['dma.faulted']);
  });

  it('clears a fully ticked group and fills a partly ticked or empty one', () => {
    expect(toggleGroup([...dma, 'fault.group'], dma)).toEqual(['fault.group']);
    expect(toggleGroup(['dma.page'], dma)).toEqual(['dma.page', 'dma.completed', 'dma.faulted']);
    expect(toggleGroup([], dma)).toEqual(['dma.page', 'dma.completed', 'dma.faulted']);
  });

  it('says what is ticked in a few words', () => {
    expect(describeTicked(EVENT_KINDS.length)).toBe('all kinds');
    expect(describeTicked(0)).toBe('no kinds');
    expect(describeTicked(12)).toBe(`12 of ${EVENT_KINDS.length} kinds`);
  });
});
