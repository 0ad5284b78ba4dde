import { describe, expect, it } from 'vitest';
import type { FaultRecord, WireEvent } from '@iommu-lab/client';
import { HOPS } from '../../../../../packages/emulator/src/flow/fault-flow';
import { HOP_COLUMNS, fromDmaEnd, fromFaultRecord, runTopology } from './sources';
import { priFlow } from './test-flows';

/** The fault-log row the collector writes for a flow (apps/api/src/runs/fault-collector.ts). */
function rowOf(flow: ReturnType<typeof priFlow>): FaultRecord {
  const hopColumns = Object.fromEntries(HOP_COLUMNS.map(([, column]) => [column, null])) as Record<
    string,
    number | null
  >;
  for (const hop of flow.hops) hopColumns[HOP_COLUMNS.find(([name]) => name === hop.hop)![1]] = hop.ns;
  return {
    seq: 1,
    timeNs: flow.startNs,
    device: flow.device,
    pasid: flow.pasid,
    address: flow.address,
    access: flow.access,
    category: flow.category,
    stage: flow.stage,
    kind: 'page-request',
    code: flow.code!,
    latencyNs: flow.latencyNs,
    flow: flow.flow,
    transaction: flow.transaction,
    group: flow.group,
    handler: flow.handler,
    cause: flow.cause,
    outcome: flow.outcome,
    endNs: flow.endNs,
    causes: flow.causes.join(','),
    replaces: null,
    replacedBecause: null,
    reason: null,
    ...hopColumns,
    handlerMmFaultNs: flow.handlerCosts!.mmFaultNs,
    handlerMapNs: flow.handlerCosts!.mapNs,
    handlerEvictionNs: flow.handlerCosts!.evictionNs,
    handlerGuestNs: flow.handlerCosts!.guestNs,
  } as FaultRecord;
}

describe('timeline sources', () => {
  it("lists the fault log's hop columns in the emulator's hop order", () => {
    expect(HOP_COLUMNS.map(([hop]) => hop)).toEqual([...HOPS]);
    for (const [hop, column] of HOP_COLUMNS) expect(column).toBe(`${hop}Ns`);
  });

  it("rebuilds a fault-log row into the flow record it came from: hops from the flow's start, the handler's fixed cost", () => {
    const flow = priFlow(7, 5_000, { causes: [3, 4] });
    const rebuilt = fromFaultRecord(rowOf(flow), () => 'vtd0');
    expect(rebuilt).toEqual(flow);
  });

  it("reads a run's config for each device's IOMMU and the process a PASID fault ran in", () => {
    const { iommuOf, addressSpaceOf } = runTopology({
      system: { devices: [{ id: 'nic0', iommu: 'vtd0' }], bindings: [{ device: 'nic0', process: 'app' }] },
    });
    expect(iommuOf('nic0')).toBe('vtd0');
    expect(iommuOf('gone')).toBe('?');
    expect(addressSpaceOf(priFlow(1, 0))).toBe('app');
    expect(addressSpaceOf(priFlow(1, 0, { pasid: null }))).toBeNull();
  });

  it('a transaction began its latency before the event that ended it', () => {
    const event = {
      seq: 5,
      timeNs: 26_224,
      kind: 'dma.completed',
      transaction: 3,
      device: 'nic0',
      pasid: 1,
      address: '0x7f0000000000',
      length: 16384,
      access: 'r',
      privileged: false,
      latencyNs: 26_224,
      recoveries: 1,
      flows: [29],
    } as unknown as WireEvent;
    expect(fromDmaEnd(event)).toMatchObject({
      kind: 'dma',
      transaction: 3,
      startNs: 0,
      endNs: 26_224,
      outcome: 'completed',
      flows: [29],
    });
    expect(fromDmaEnd({ ...event, kind: 'dma.faulted' } as WireEvent).outcome).toBe('faulted');
  });
});
