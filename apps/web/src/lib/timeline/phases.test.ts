import { describe, expect, it } from 'vitest';
import { HOPS } from '../../../../../packages/emulator/src/flow/fault-flow';
import { HOP_PHASE, PHASES, PHASE_COLOURS, phaseIndex } from './phases';

describe('hop phases', () => {
  it('puts every hop of the emulator in a phase', () => {
    for (const hop of HOPS) expect(HOP_PHASE[hop], hop).toBeDefined();
    expect(Object.keys(HOP_PHASE).sort()).toEqual([...HOPS].sort());
  });
  it('has a colour per phase and groups the kernel handler and mm fault apart', () => {
    expect(PHASE_COLOURS).toHaveLength(PHASES.length);
    expect(PHASES[phaseIndex('handler')]).toBe('handler');
    expect(PHASES[phaseIndex('mmFault')]).toBe('mm fault');
    expect(PHASES[phaseIndex('retranslate')]).toBe('retry');
  });
});
