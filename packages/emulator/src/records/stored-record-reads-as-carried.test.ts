/**
 * A record kept as its layout id and hex (a run's saved fault log) reads back as an event carried it:
 * carryStoredRecord finds the layout by id and reads the fields with the layout's own reader, so the
 * fields match what the emulator gave, for every layout and for the records real flows produce. Anything
 * but a served layout's id and its size in hex is refused.
 */
import { describe, expect, it } from 'vitest';
import type { FlowRecord } from '../flow/fault-flow';
import { presetById, startPreset } from '../presets/presets';
import { carryRecord, toHex } from './bit-layout';
import { refusal } from '../testing/refusal';
import { RECORD_LAYOUTS, carryStoredRecord } from './layouts';

describe('a stored record reads as carried', () => {
  it('every layout: the fields of its bytes, as carryRecord reads them', () => {
    for (const layout of RECORD_LAYOUTS) {
      // A byte pattern that sets bits in every field wider than a few bits, reserved ones included.
      const bytes = Uint8Array.from({ length: layout.bytes }, (_, i) => (0xa5 + 37 * i) & 0xff);
      const stored = carryStoredRecord(layout.id, toHex(bytes));
      expect(stored).toEqual(carryRecord(layout, bytes));
      expect(Object.keys(stored.fields).sort()).toEqual(Object.keys(layout.fields).sort());
    }
  });

  it("a preset's flows: each record, from its layout id and hex alone, is the record the flow carried", () => {
    // VT-d PRI resolved by SVA, SMMUv3 PRI requests denied: records of both families and of Linux.
    const run = startPreset(presetById('sva-mainline')!);
    const flows: FlowRecord[] = [];
    run.system.on('flow.ended', (flow) => flows.push(flow));
    run.system.runUntilIdle();
    const carried = flows.flatMap((flow) => flow.records.map((entry) => entry.record));
    expect(new Set(carried.map((record) => record.layout))).toEqual(
      new Set([
        'pcie.page-request',
        'pcie.prg-response',
        'vtd.page-request-descriptor',
        'vtd.page-group-response',
        'smmuv3.priq-entry',
        'smmuv3.cmd-pri-resp',
        'linux.iommu-fault.linux-6.10',
        'linux.iommu-page-response.linux-6.10',
      ]),
    );
    for (const record of carried) expect(carryStoredRecord(record.layout, record.hex)).toEqual(record);
  });

  it('refuses a layout it does not serve, text that is not hex, and bytes of another size (EINVAL)', () => {
    const descriptor = '00'.repeat(32);
    expect(carryStoredRecord('vtd.page-request-descriptor', descriptor).hex).toBe(descriptor);
    expect(refusal(() => carryStoredRecord('vtd.no-such-record', descriptor))).toMatchObject({
      code: 'EINVAL',
      reason: 'unknown-layout',
    });
    expect(refusal(() => carryStoredRecord('vtd.page-request-descriptor', 'zz'.repeat(32)))).toMatchObject({
      code: 'EINVAL',
      reason: 'not-hex',
    });
    expect(refusal(() => carryStoredRecord('vtd.page-request-descriptor', '00'.repeat(16)))).toMatchObject({
      code: 'EINVAL',
      reason: 'size',
    });
  });
});
