/**
 * An unrecoverable fault's flow record carries the code its hardware recorded, in hex (issue 12, kernel
 * detail): the VT-d fault reason or the SMMUv3 event ID, the same as its `fault.unrecoverable` event, so a
 * fault log reads it from the record without pairing the flow with the event. Other flows have none.
 */
import { describe, expect, it } from 'vitest';
import { presetById, startPreset } from '../presets/presets';
import { capture, systemWith } from '../testing/fixtures';

function faultOnce(family: 'vtd' | 'smmuv3', attached: boolean) {
  const s = systemWith(family, 'mainline', [{ id: 'dev0' }]);
  if (attached) {
    s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
    s.attach('dev0', 'd');
  }
  const flows = capture(s, 'flow.ended');
  const records = capture(s, 'fault.unrecoverable');
  s.dma({ device: 'dev0', address: '0x5000', length: 8, access: 'write' });
  s.runUntilIdle();
  expect(flows).toHaveLength(1);
  expect(records).toHaveLength(1);
  return { flow: flows[0]!, record: records[0]! };
}

describe('an unrecoverable flow names the code its hardware recorded', () => {
  it('VT-d: the fault reason (FRCD.FR) in hex, its name in code', () => {
    const { flow, record } = faultOnce('vtd', true);
    expect(flow).toMatchObject({
      mechanism: 'unrecoverable',
      outcome: 'recorded',
      reason: '0x71',
      code: 'SM: Present bit in first-level paging entry is clear',
    });
    expect(flow.reason).toBe(record.reason);
    expect(flow.code).toBe(record.codeName);
  });

  it('SMMUv3: the event ID in hex', () => {
    const { flow, record } = faultOnce('smmuv3', true);
    expect(flow).toMatchObject({ mechanism: 'unrecoverable', reason: '0x10', code: 'F_TRANSLATION' });
    expect(flow.reason).toBe(record.reason);
  });

  it('SMMUv3 abort STE: the hardware records nothing, so the flow has no reason, only its name', () => {
    const { flow, record } = faultOnce('smmuv3', false);
    expect(record.recorded).toBe(false);
    expect(flow).toMatchObject({ outcome: 'lost', reason: null, code: record.codeName });
  });

  it('recoverable flows (PRI, stall, self-faulting) have no reason', () => {
    for (const id of ['sva-pri-vtd', 'smmu-stall-sva', 'sva-self-faulting']) {
      const run = startPreset(presetById(id)!);
      const flows = capture(run.system, 'flow.ended');
      run.system.runUntilIdle();
      expect(flows.length).toBeGreaterThan(0);
      expect(flows.filter((flow) => flow.reason !== null)).toEqual([]);
    }
  });
});
