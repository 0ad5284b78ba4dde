/** The pure parts: query strings, the client-side event filter, the CLI's parsers and tables. */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from 'commander';
import { matchesFilter, queryString } from './index';
import type { RunView, WireEvent } from './index';
import { metricsTable, number, pointer, ratio, signed, summarize, table, time } from './cli/format';
import { parseParam } from './cli/program';

const event = (fields: Partial<WireEvent> & Record<string, unknown>): WireEvent =>
  ({ seq: 1, timeNs: 0, kind: 'fault.group', ...fields }) as WireEvent;

describe('query strings', () => {
  it('drops undefined, joins lists with commas, encodes', () => {
    expect(queryString({ after: 3, kinds: ['a.b', 'c'], device: undefined, code: 'x y' })).toBe(
      '?after=3&kinds=a.b%2Cc&code=x+y',
    );
    expect(queryString({})).toBe('');
    expect(queryString(undefined)).toBe('');
  });
});

describe('matchesFilter (the same rules as the server)', () => {
  it('every given list must match; an event without the field does not match a list for it', () => {
    const group = event({ device: 'vf0', pasid: null, category: 'MAP', stage: 2 });
    expect(matchesFilter(group, {})).toBe(true);
    expect(matchesFilter(group, { kinds: ['fault.group'], devices: ['vf0'] })).toBe(true);
    expect(matchesFilter(group, { kinds: ['dma.completed'] })).toBe(false);
    expect(matchesFilter(group, { pasids: [null] })).toBe(true);
    expect(matchesFilter(group, { pasids: [1] })).toBe(false);
    expect(matchesFilter(group, { categories: ['BIND'] })).toBe(false);
    expect(matchesFilter(group, { stages: [2], categories: ['MAP'] })).toBe(true);
    expect(matchesFilter(event({ kind: 'dma.completed' }), { pasids: [null] })).toBe(false);
    expect(matchesFilter(event({}), { devices: [] })).toBe(true);
  });
});

describe('CLI parsers and formatting', () => {
  it('--param path=v1,v2: values are JSON when they parse, strings otherwise', () => {
    expect(parseParam('/system/devices/0/pri/capacity=8,16,32')).toEqual({
      path: '/system/devices/0/pri/capacity',
      values: [8, 16, 32],
    });
    expect(parseParam('/workload/streams/0/pattern=random, sequential,true,null')).toEqual({
      path: '/workload/streams/0/pattern',
      values: ['random', 'sequential', true, null],
    });
    expect(() => parseParam('capacity=8')).toThrow(InvalidArgumentError);
    expect(() => parseParam('/a/b=')).toThrow(InvalidArgumentError);
    expect(() => parseParam('/a/b')).toThrow(InvalidArgumentError);
  });

  it('numbers, deltas, ratios, times and pointers', () => {
    expect(number(1234567)).toBe('1,234,567');
    expect(number(0.123456)).toBe('0.1235');
    expect(number(null)).toBe('-');
    expect(signed(5)).toBe('+5');
    expect(signed(-5)).toBe('-5');
    expect(ratio(1.5)).toBe('×1.500');
    expect(ratio(null)).toBe('-');
    expect(time(950)).toBe('950ns');
    expect(time(8381)).toBe('8.381µs');
    expect(pointer({ a: { 'b/c': [1, 2] } }, '/a/b~1c/1')).toBe(2);
    expect(pointer({ a: 1 }, '/a/b')).toBeUndefined();
  });

  it('tables align columns, numbers to the right', () => {
    expect(
      table(
        ['name', 'n'],
        [
          ['a', '1'],
          ['bbb', '1,000'],
        ],
      ).split('\n'),
    ).toEqual(['name      n', '────  ─────', 'a         1', 'bbb   1,000']);
  });

  it('a run’s summary and metrics table read the main metrics and the fault records', () => {
    const run = {
      id: 'r1',
      label: 'seed 1',
      faultRecords: 7,
      metrics: {
        system: {
          transactions: { completed: 10, faulted: 1 },
          dmaLatencyNs: { p50: 100, p99: 900 },
          faults: { pageRequests: 7, latencyNs: { p50: 5, p90: 6, p99: 8 } },
        },
      },
    } as unknown as RunView;
    expect(summarize(run)).toEqual({
      faultRecords: 7,
      transactionsCompleted: 10,
      transactionsFaulted: 1,
      pageRequests: 7,
      faultLatencyP50Ns: 5,
      faultLatencyP90Ns: 6,
      faultLatencyP99Ns: 8,
      dmaLatencyP50Ns: 100,
      dmaLatencyP99Ns: 900,
      // Faults by stage are headline figures too (headline.ts); this run's metrics have none.
      stage1: null,
      stage2: null,
    });
    const text = metricsTable([run]);
    expect(text).toMatch(/transactions completed\s+10/);
    expect(text).toMatch(/fault records\s+7/);
    expect(summarize({ ...run, metrics: null }).pageRequests).toBeNull();
  });
});

describe('sweep chart', () => {
  it('draws one bar per run, scaled to the largest value, with the value beside it', async () => {
    const { barChart } = await import('./cli/format');
    const chart = barChart(
      '/system/dmaLatencyNs/p99',
      [
        { label: 'capacity=2', value: 100 },
        { label: 'capacity=32', value: 25 },
        { label: 'failed', value: null },
      ],
      8,
    ).split('\n');
    expect(chart[0]).toBe('/system/dmaLatencyNs/p99');
    expect(chart[1]).toMatch(/^capacity=2 {3}█{8} {2}100$/);
    expect(chart[2]).toMatch(/^capacity=32 {2}██ {6} {2}25$/);
    expect(chart[3]).toMatch(/^failed {7} {8} {2}/);
  });
});
