import { describe, expect, it } from 'vitest';
import { EVENT_KINDS } from '../events';
import { KIND_LAYERS, LAYERS } from './layers';

describe('kind layers', () => {
  it('gives every kind the emulator emits a known layer', () => {
    for (const kind of EVENT_KINDS) expect(LAYERS).toContain(KIND_LAYERS[kind]);
    expect(Object.keys(KIND_LAYERS).sort()).toEqual([...EVENT_KINDS].sort());
  });
});
