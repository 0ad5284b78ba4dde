import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { RESULTS_DIR, describeFigure, interleave, median, reportRuns } from './index';

const quietly = <T>(work: () => T): T => {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    return work();
  } finally {
    log.mockRestore();
  }
};

describe('a benchmark figure', () => {
  it('is the median of the runs with their min and max, beside the median of the baseline runs', () => {
    const figure = quietly(() =>
      reportRuns(
        {
          name: 'ws-stream',
          unit: 'events/s',
          runs: [300, 100, 200],
          baselineRuns: [1000, 4000, 2000],
          better: 'higher',
        },
        mkdtempSync(join(tmpdir(), 'bench-')),
      ),
    );
    expect(figure).toEqual({
      name: 'ws-stream',
      value: 200,
      unit: 'events/s',
      baseline: 2000,
      ratio: 0.1,
      min: 100,
      max: 300,
      runs: 3,
    });
  });

  it('takes the mean of the two middle runs as the median of an even number', () => {
    expect(median([10, 1, 3, 2])).toBe(2.5);
    expect(median([5, 5, 7, 9, 1])).toBe(5);
  });

  it('is written to <dir>/<name>.json as {name, value, unit, baseline, ratio, min, max, runs} and nothing else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    quietly(() =>
      reportRuns(
        {
          name: 'p99',
          unit: 'ms',
          runs: [4, 2, 3, 9, 1],
          baselineRuns: [1, 1, 2, 1, 1],
          better: 'lower',
          note: 'x',
        },
        dir,
      ),
    );
    expect(JSON.parse(readFileSync(join(dir, 'p99.json'), 'utf8'))).toStrictEqual({
      name: 'p99',
      value: 3,
      unit: 'ms',
      baseline: 1,
      ratio: 3,
      min: 1,
      max: 9,
      runs: 5,
    });
  });

  it.each([
    ['two runs', [1, 2], [1, 2]],
    ['two baseline runs', [1, 2, 3], [1, 2]],
    ['no runs', [], []],
  ])('is refused with %s (at least three of each), and no file is written', (_, runs, baselineRuns) => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    expect(() => reportRuns({ name: 'few', unit: 'ms', runs, baselineRuns, better: 'lower' }, dir)).toThrow(
      /at least 3/,
    );
    expect(existsSync(join(dir, 'few.json'))).toBe(false);
  });

  it('is refused when the baseline has a different number of runs, a run is not a number or the baseline is 0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    const base = { name: 'bad', unit: 'ms', better: 'lower' } as const;
    expect(() => reportRuns({ ...base, runs: [1, 2, 3, 4], baselineRuns: [1, 2, 3] }, dir)).toThrow(
      /3 baseline/,
    );
    expect(() => reportRuns({ ...base, runs: [1, NaN, 3], baselineRuns: [1, 2, 3] }, dir)).toThrow(/NaN/);
    expect(() => reportRuns({ ...base, runs: [1, 2, 3], baselineRuns: [0, 0, 1] }, dir)).toThrow(
      /median is 0/,
    );
    expect(existsSync(join(dir, 'bad.json'))).toBe(false);
  });

  it('prints one line with the median, min–max, the number of runs, the baseline, the ratio and which way is better', () => {
    const line = describeFigure(
      {
        name: 'p99',
        value: 0.0123,
        unit: 'ms',
        baseline: 1234567,
        ratio: 0.5,
        min: 0.011,
        max: 0.02,
        runs: 5,
      },
      'lower',
      'note here',
    );
    expect(line).not.toContain('\n');
    expect(line).toContain('0.0123 ms (0.011–0.02, 5 runs)');
    expect(line).toContain('baseline 1,234,567 ms');
    expect(line).toContain('ratio 0.500 (lower is better)');
    expect(line).toContain('note here');
  });

  it('lands in bench-results/ at the repository root', () => {
    expect(readFileSync(join(RESULTS_DIR, '..', 'turbo.json'), 'utf8')).toContain('bench');
  });
});

describe('interleaved runs', () => {
  it('alternate value and baseline, value first, as many rounds of each', async () => {
    const order: string[] = [];
    let n = 0;
    const measured = await interleave(
      3,
      () => (order.push('value'), ++n),
      async () => (order.push('baseline'), 10 * ++n),
    );
    expect(order).toEqual(['value', 'baseline', 'value', 'baseline', 'value', 'baseline']);
    expect(measured).toEqual({ runs: [1, 3, 5], baselineRuns: [20, 40, 60] });
  });
});
