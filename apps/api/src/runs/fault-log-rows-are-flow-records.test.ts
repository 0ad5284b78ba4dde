/**
 * The fault log is the emulator's flow records, one row per flow (issue 11): every column of a row is the
 * record's, each hop in its own column, and the hop columns are the emulator's HOPS in order; its byte-exact
 * records are kept as [layout id, hex] pairs in the flow's order.
 */
import { FAULT_COLUMNS, HOP_COLUMNS } from '@iommu-lab/db';
import { type FlowRecord, HOPS, PRESETS, startPreset } from '@iommu-lab/emulator';
import { describe, expect, it } from 'vitest';
import { FaultCollector, faultRow } from './fault-collector';

describe('fault-log rows', () => {
  it('have one hop column per emulator hop, in the same order', () => {
    expect(HOP_COLUMNS).toEqual(HOPS.map((hop) => `${hop}Ns`));
  });

  it.each(['sva-pri-vtd', 'smmu-stall-sva', 'sva-self-faulting', 'passthrough-map'])(
    '%s: one row per ended flow, carrying its id, outcome, every hop and its records',
    (id) => {
      const run = startPreset(PRESETS.find((preset) => preset.id === id)!);
      const flows: FlowRecord[] = [];
      run.system.on('flow.ended', (flow) => flows.push(flow));
      const collector = new FaultCollector(run.system);
      run.system.runUntilIdle();
      const rows = collector.take();
      expect(flows.length).toBeGreaterThan(0);
      expect(rows).toHaveLength(flows.length);
      rows.forEach((row, i) => {
        const flow = flows[i]!;
        const field = (name: string) => row[FAULT_COLUMNS.indexOf(name as (typeof FAULT_COLUMNS)[number])];
        expect(field('flow')).toBe(flow.flow);
        expect(field('outcome')).toBe(flow.outcome);
        expect(field('latencyNs')).toBe(flow.latencyNs);
        expect(field('reason')).toBe(flow.reason);
        // Written out by hand for speed: the text JSON.stringify gives for the pairs.
        expect(field('records')).toBe(
          JSON.stringify(flow.records.map(({ record }) => [record.layout, record.hex])),
        );
        for (const hop of HOPS) {
          const recorded = flow.hops.find((h) => h.hop === hop);
          expect(field(`${hop}Ns`)).toBe(recorded ? recorded.ns : null);
        }
      });
      expect(faultRow(7, flows[0]!)[0]).toBe(7);
    },
  );
});
