import { describe, expect, it } from 'vitest';
import { EVENT_KINDS } from './events';
import { FilterError, buildFilter, describeFilter, emptyFilterForm, parsePasids } from './filter';

describe('parsePasids', () => {
  it('reads numbers, hex and "none"', () => {
    expect(parsePasids('1, 2 none 0x10')).toEqual([1, 2, null, 16]);
    expect(parsePasids('  ')).toEqual([]);
  });

  it('refuses what is not a PASID', () => {
    expect(() => parsePasids('abc')).toThrow(expect.objectContaining({ code: 'bad-pasid' }));
    expect(() => parsePasids('abc')).toThrow(FilterError);
    expect(() => parsePasids('1048576')).toThrow(FilterError);
    expect(() => parsePasids('-3')).toThrow(FilterError);
  });
});

describe('buildFilter', () => {
  it('sends nothing for an empty form: the server streams everything', () => {
    expect(buildFilter(emptyFilterForm())).toEqual({});
    expect(describeFilter({})).toBe('everything');
  });

  it('sends only the lists that were filled in', () => {
    const filter = buildFilter({
      ...emptyFilterForm(),
      devices: ['nic0'],
      pasids: '1 none',
      categories: ['MAP'],
      stages: [2],
    });
    expect(filter).toEqual({ devices: ['nic0'], pasids: [1, null], categories: ['MAP'], stages: [2] });
    expect(describeFilter(filter)).toBe('devices nic0 · PASIDs 1, none · categories MAP · stages 2');
  });

  it('sends the ticked kinds only when some are left out', () => {
    expect(emptyFilterForm().kinds).toEqual(EVENT_KINDS);
    expect(buildFilter({ ...emptyFilterForm(), kinds: [...EVENT_KINDS] })).toEqual({});
    const filter = buildFilter({ ...emptyFilterForm(), kinds: ['dma.faulted', 'fault.group'] });
    expect(filter).toEqual({ kinds: ['dma.faulted', 'fault.group'] });
    expect(describeFilter(filter)).toBe('2 kind(s)');
  });

  it('refuses a form with no kind ticked, which would stream nothing', () => {
    expect(() => buildFilter({ ...emptyFilterForm(), kinds: [] })).toThrow(
      expect.objectContaining({ code: 'no-kinds', message: expect.stringContaining('tick at least one') }),
    );
  });
});
