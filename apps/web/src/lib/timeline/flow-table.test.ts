import { describe, expect, it } from 'vitest';
import { FlowTable, MAX_LANES } from './flow-table';
import { TRANSACTION_SEGMENT, phaseIndex } from './phases';
import { priFlow } from './test-flows';

describe('the timeline flow table', () => {
  it('gives a PRI flow a bar on its device, its IOMMU queue, its handler and the address space it faulted in', () => {
    const table = new FlowTable(() => 'proc0');
    table.add(priFlow(1, 0));
    const kinds = table.tracks.map((track) => track.kind);
    expect(kinds).toEqual(['device', 'queue', 'handler', 'address space']);
    expect(table.tracks.map((track) => track.label)).toEqual([
      'nic0 · PASID 1',
      'vtd0 · hardware queue',
      'handler sva',
      'address space proc0',
    ]);
    // The device bar spans the flow, one segment per hop, in hop order.
    expect([table.barStart[0], table.barEnd[0]]).toEqual([0, 2000]);
    expect(table.segCount[0]).toBe(7);
    // The queue bar is the queueWait hop; the mm fault comes after the handler's fixed cost.
    expect([table.barStart[1], table.barEnd[1]]).toEqual([100, 400]);
    expect([table.barStart[3], table.barEnd[3]]).toEqual([600 + 400, 600 + 900]);
    expect(table.segPhase[table.firstSeg[3]!]).toBe(phaseIndex('mmFault'));
  });

  it('puts overlapping flows of one track on separate lanes, and reuses a lane once it is free', () => {
    const table = new FlowTable();
    table.add(priFlow(1, 0));
    table.add(priFlow(2, 500));
    table.add(priFlow(3, 2500));
    const deviceLane = (flow: number) => table.barLane[table.firstBar[table.indexOf(flow)]!];
    expect([deviceLane(1), deviceLane(2), deviceLane(3)]).toEqual([0, 1, 0]);
    expect(table.tracks[0]!.lanes).toBe(2);
  });

  it('never uses more than MAX_LANES lanes', () => {
    const table = new FlowTable();
    for (let i = 1; i <= MAX_LANES + 8; i++) table.add(priFlow(i, i));
    expect(table.tracks[0]!.lanes).toBe(MAX_LANES);
  });

  it('names the stage on a device track only when the device faults at both stages', () => {
    const table = new FlowTable();
    table.add(priFlow(1, 0, { stage: 1 }));
    expect(table.tracks[0]!.label).toBe('nic0 · PASID 1');
    table.add(priFlow(2, 10, { stage: 2 }));
    const labels = table.tracks.filter((track) => track.kind === 'device').map((track) => track.label);
    expect(labels).toEqual(['nic0 · PASID 1 · stage 1', 'nic0 · PASID 1 · stage 2']);
  });

  it('finds the flows that can touch a time range by binary search over their ends', () => {
    const table = new FlowTable();
    for (let i = 0; i < 100; i++) table.add(priFlow(i + 1, i * 10_000));
    // Flow k spans [k·10 µs, k·10 µs + 2 µs].
    expect(table.firstEndingAfter(50_000)).toBe(5);
    expect(table.firstEndingAfter(52_001)).toBe(6);
    const last = table.lastStartingBefore(70_000);
    for (let f = last; f < table.count; f++) expect(table.startNs[f]).toBeGreaterThan(70_000);
    expect(table.startNs[last - 1]).toBeLessThanOrEqual(70_000);
  });

  it('links a refault to the flow it followed from, and ignores a flow it already has', () => {
    const table = new FlowTable();
    table.add(priFlow(1, 0));
    table.add(priFlow(2, 3000, { causes: [1] }));
    table.add(priFlow(2, 3000));
    expect(table.count).toBe(2);
    expect(table.causeIndex[1]).toBe(0);
    expect(table.causeIndex[0]).toBe(-1);
  });

  it('draws a DMA transaction as one bar on its device DMA track, kept apart from the flows', () => {
    const table = new FlowTable();
    table.add(priFlow(8, 100));
    table.add({
      kind: 'dma',
      transaction: 8,
      device: 'nic0',
      pasid: 1,
      address: '0x1000',
      length: 4096,
      access: 'w',
      outcome: 'completed',
      startNs: 0,
      endNs: 3000,
      latencyNs: 3000,
      recoveries: 1,
      flows: [8],
    });
    expect(table.count).toBe(2);
    expect([table.flowCount, table.transactions]).toEqual([1, 1]);
    // Flow 8 and transaction 8 are different records.
    expect([table.indexOf(8), table.indexOfTransaction(8)]).toEqual([0, 1]);
    const dma = table.tracks.find((track) => track.kind === 'dma')!;
    expect(dma.label).toBe('nic0 · DMA');
    const bar = table.firstBar[1]!;
    expect([table.barCount[1], table.barStart[bar], table.barEnd[bar]]).toEqual([1, 0, 3000]);
    expect(table.segPhase[table.firstSeg[bar]!]).toBe(TRANSACTION_SEGMENT);
  });
});
