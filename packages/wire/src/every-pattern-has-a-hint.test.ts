/**
 * Every pattern a request can fail carries a hint in words (x-pattern-hint), so a validation message
 * explains the field instead of printing its regular expression.
 */
import { describe, expect, it } from 'vitest';
import * as wire from './index';

function patternsWithoutHint(node: unknown, where: string, seen: Set<unknown>, out: string[]): void {
  if (node === null || typeof node !== 'object' || seen.has(node)) return;
  seen.add(node);
  const record = node as Record<string, unknown>;
  if (typeof record.pattern === 'string' && typeof record['x-pattern-hint'] !== 'string') out.push(where);
  for (const [key, value] of Object.entries(record)) patternsWithoutHint(value, `${where}/${key}`, seen, out);
}

describe('wire schemas: every pattern has a hint', () => {
  it('no schema exported by @iommu-lab/wire has a pattern without x-pattern-hint', () => {
    const missing: string[] = [];
    const seen = new Set<unknown>();
    for (const [name, value] of Object.entries(wire)) patternsWithoutHint(value, name, seen, missing);
    expect(missing).toEqual([]);
    // The walk found patterns at all (the address and name schemas are everywhere).
    expect(JSON.stringify(wire.AddressQuery)).toContain('x-pattern-hint');
  });
});
