import { describe, expect, it } from 'vitest';
import { faultReason, formatFaultReason } from './fault-reason';

describe('fault reason column', () => {
  it('a VT-d unrecoverable fault shows its fault reason in hex with its name', () => {
    const reason = faultReason({
      kind: 'fault.unrecoverable',
      family: 'vtd',
      reason: '0x79',
      codeName: 'SM: Read/Write permission error in second-level paging entry',
    });
    expect(reason?.what).toBe('VT-d fault reason');
    expect(formatFaultReason(reason!)).toBe(
      '0x79 SM: Read/Write permission error in second-level paging entry',
    );
  });

  it('an SMMUv3 fault shows its event ID; an abort STE (nothing recorded) its name alone', () => {
    const event = {
      kind: 'fault.unrecoverable',
      family: 'smmuv3',
      reason: '0x10',
      codeName: 'F_TRANSLATION',
    };
    expect(formatFaultReason(faultReason(event)!)).toBe('0x10 F_TRANSLATION');
    const abort = { ...event, reason: null, codeName: 'STE.Config abort (no event recorded)' };
    expect(formatFaultReason(faultReason(abort)!)).toBe('STE.Config abort (no event recorded)');
  });

  it('other events have no reason column', () => {
    expect(faultReason({ kind: 'dma.completed' })).toBeNull();
  });
});
