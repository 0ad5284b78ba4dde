import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { RESULTS_DIR, describeFigure, report } from './index';

describe('benchmark figures', () => {
  it('are written as {name, value, unit, baseline, ratio} with ratio = value / baseline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const figure = report(
      { name: 'ws-stream', value: 250_000, unit: 'events/s', baseline: 1_000_000 },
      '',
      dir,
    );
    log.mockRestore();
    expect(figure.ratio).toBe(0.25);
    expect(JSON.parse(readFileSync(join(dir, 'ws-stream.json'), 'utf8'))).toEqual({
      name: 'ws-stream',
      value: 250_000,
      unit: 'events/s',
      baseline: 1_000_000,
      ratio: 0.25,
    });
  });

  it('print small latencies with their significant digits and large rates grouped', () => {
    const line = describeFigure({ name: 'p99', value: 0.0123, unit: 'ms', baseline: 1234567, ratio: 0.5 });
    expect(line).toContain('0.0123 ms');
    expect(line).toContain('1,234,567 ms');
    expect(line).toContain('ratio 0.500');
  });

  it('land in bench-results/ at the repository root', () => {
    expect(readFileSync(join(RESULTS_DIR, '..', 'turbo.json'), 'utf8')).toContain('bench');
  });
});
