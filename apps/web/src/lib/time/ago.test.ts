import { describe, expect, it } from 'vitest';
import { ago, wallSpan } from './ago';

const NOW = Date.parse('2026-12-03T10:00:00.000Z');
const before = (ms: number) => new Date(NOW - ms).toISOString();

describe('wall time since an instant is said in the unit a person reads it in', () => {
  it('seconds up to two minutes, then minutes, hours and days, whole', () => {
    expect(ago(before(0), NOW)).toBe('0 s ago');
    expect(ago(before(2_400), NOW)).toBe('2 s ago');
    expect(ago(before(119_000), NOW)).toBe('119 s ago');
    expect(ago(before(120_000), NOW)).toBe('2 min ago');
    expect(ago(before(119 * 60_000), NOW)).toBe('119 min ago');
    expect(ago(before(3 * 3_600_000), NOW)).toBe('3 h ago');
    expect(ago(before(50 * 3_600_000), NOW)).toBe('2 d ago');
  });

  it('an instant a little ahead of this clock (another machine’s) reads as now', () => {
    expect(ago(before(-800), NOW)).toBe('0 s ago');
  });
});

describe('a wall-clock span carries its unit', () => {
  it('ms under a second, then s, min and h', () => {
    expect(wallSpan(before(850), before(0))).toBe('850 ms');
    expect(wallSpan(before(12_400), before(0))).toBe('12.4 s');
    expect(wallSpan(before(210_000), before(0))).toBe('3.5 min');
    expect(wallSpan(before(3 * 3_600_000), before(0))).toBe('3.0 h');
  });
});
