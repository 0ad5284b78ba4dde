/** Flows for the timeline's unit tests, shaped as the emulator's records (flow/fault-flow.ts). */
import type { TimelineFlow } from './flow-table';

/** A PRI flow: toIommu, queueWait, dispatch, handler, responseWrite, toDevice, retranslate (fault-flow.ts HOPS). */
export function priFlow(flow: number, startNs: number, over: Partial<TimelineFlow> = {}): TimelineFlow {
  const costs: [string, number][] = [
    ['toIommu', 100],
    ['queueWait', 300],
    ['dispatch', 200],
    ['handler', 1000],
    ['responseWrite', 50],
    ['toDevice', 100],
    ['retranslate', 250],
  ];
  let at = startNs;
  const hops = costs.map(([hop, ns]) => {
    const entry = { hop, startNs: at, ns };
    at += ns;
    return entry;
  });
  return {
    flow,
    mechanism: 'pri',
    transaction: flow,
    iommu: 'vtd0',
    device: 'nic0',
    pasid: 1,
    address: '0x1000',
    access: 'w',
    stage: 1,
    category: 'BIND',
    handler: 'sva',
    group: flow,
    code: 'SUCCESS',
    reason: null,
    cause: 'handler',
    outcome: 'resumed',
    startNs,
    endNs: at,
    latencyNs: at - startNs,
    hops,
    handlerCosts: { fixedNs: 400, mmFaultNs: 500, mapNs: 100, evictionNs: 0, guestNs: 0 },
    causes: [],
    replaces: null,
    ...over,
  };
}
