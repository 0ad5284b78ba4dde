import { describe, expect, it } from 'vitest';
import { FilterError, buildFilter, describeFilter, emptyFilterForm, parsePasids } from './filter';

describe('parsePasids', () => {
  it('reads numbers, hex and "none"', () => {
    expect(parsePasids('1, 2 none 0x10')).toEqual([1, 2, null, 16]);
    expect(parsePasids('  ')).toEqual([]);
  });

  it('refuses what is not a PASID', () => {
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
});
