/**
 * Flows for the timeline from its two sources: a live lab's flow records (GET /labs/:lab/flows, already in
 * the shape it needs) with its DMA transactions (its dma.completed / dma.faulted events), and a saved run's
 * fault log (GET /runs/:run/faults), whose rows keep each hop's
 * latency in its own column. A row's hops are rebuilt in the emulator's hop order from the flow's start
 * (hops are consecutive and sum to the latency: flow/fault-flow.ts), so both sources draw the same bars.
 */
import type { FaultRecord, FlowRecord, WireEvent } from '@iommu-lab/client';
import type { AddressSpaceOf, TimelineFlow, TimelineTransaction } from './flow-table';

/** The fault log's hop columns in the emulator's HOPS order (a test holds them equal). */
export const HOP_COLUMNS = [
  ['creditWait', 'creditWaitNs'],
  ['toIommu', 'toIommuNs'],
  ['queueWait', 'queueWaitNs'],
  ['groupWait', 'groupWaitNs'],
  ['dispatch', 'dispatchNs'],
  ['handler', 'handlerNs'],
  ['clientWait', 'clientWaitNs'],
  ['timeout', 'timeoutNs'],
  ['responseWrite', 'responseWriteNs'],
  ['toDevice', 'toDeviceNs'],
  ['overflowResponse', 'overflowResponseNs'],
  ['resume', 'resumeNs'],
  ['deviceDriver', 'deviceDriverNs'],
  ['mmFault', 'mmFaultNs'],
  ['retranslate', 'retranslateNs'],
] as const satisfies readonly (readonly [string, keyof FaultRecord])[];

/** The fault log's `kind` back to the flow's mechanism (fault-collector.ts KIND, reversed). */
const MECHANISM: Record<string, string> = {
  'page-request': 'pri',
  stall: 'stall',
  'device-handled': 'self-faulting',
  unrecoverable: 'unrecoverable',
};

export function fromFlowRecord(record: FlowRecord): TimelineFlow {
  return record;
}

/** The event kinds that end a DMA transaction with its latency (emulator sim/events.ts DmaEnd). */
export const TRANSACTION_END_KINDS = ['dma.completed', 'dma.faulted'] as const;

/** A transaction from the event that ended it: it began latencyNs before. */
export function fromDmaEnd(event: WireEvent): TimelineTransaction {
  const latencyNs = event.latencyNs as number;
  return {
    kind: 'dma',
    transaction: event.transaction as number,
    device: event.device as string,
    pasid: (event.pasid as number | null) ?? null,
    address: event.address as string,
    length: event.length as number,
    access: event.access as string,
    outcome: event.kind === 'dma.faulted' ? 'faulted' : 'completed',
    startNs: event.timeNs - latencyNs,
    endNs: event.timeNs,
    latencyNs,
    recoveries: event.recoveries as number,
    flows: event.flows as number[],
  };
}

/** A run's fault-log row as a flow; `iommuOf` names the device's IOMMU (from the run's config). */
export function fromFaultRecord(row: FaultRecord, iommuOf: (device: string) => string): TimelineFlow {
  const hops: TimelineFlow['hops'] = [];
  let at = row.timeNs;
  for (const [hop, column] of HOP_COLUMNS) {
    const ns = row[column];
    if (ns === null) continue;
    hops.push({ hop, startNs: at, ns });
    at += ns;
  }
  const handlerNs = row.handlerNs;
  const parts = [row.handlerMmFaultNs, row.handlerMapNs, row.handlerEvictionNs, row.handlerGuestNs];
  const handlerCosts =
    handlerNs === null || parts.every((part) => part === null)
      ? null
      : {
          mmFaultNs: row.handlerMmFaultNs ?? 0,
          mapNs: row.handlerMapNs ?? 0,
          evictionNs: row.handlerEvictionNs ?? 0,
          guestNs: row.handlerGuestNs ?? 0,
          fixedNs: handlerNs - parts.reduce<number>((sum, part) => sum + (part ?? 0), 0),
        };
  return {
    flow: row.flow,
    mechanism: MECHANISM[row.kind] ?? row.kind,
    transaction: row.transaction,
    iommu: iommuOf(row.device),
    device: row.device,
    pasid: row.pasid,
    address: row.address,
    access: row.access,
    stage: row.stage === 1 || row.stage === 2 ? row.stage : null,
    category: row.category,
    handler: row.handler,
    group: row.group,
    code: row.code,
    reason: row.reason,
    cause: row.cause,
    outcome: row.outcome,
    startNs: row.timeNs,
    endNs: row.endNs,
    latencyNs: row.latencyNs ?? row.endNs - row.timeNs,
    hops,
    handlerCosts,
    causes: row.causes === '' ? [] : row.causes.split(',').map(Number),
    replaces: row.replaces === null ? null : { flow: row.replaces, because: row.replacedBecause ?? '' },
  };
}

interface RunConfig {
  system?: { devices?: { id: string; iommu: string }[]; bindings?: { device: string; process: string }[] };
}

/**
 * What a run's config says about where its flows go: each device's IOMMU (the fault log names only the
 * device), and the process a device is bound to for SVA (a bond's PASID is its process's, so a flow with a
 * PASID on a bound device faulted in that process).
 */
export function runTopology(config: unknown): {
  iommuOf: (device: string) => string;
  addressSpaceOf: AddressSpaceOf;
} {
  const system = (config as RunConfig).system;
  const iommus = new Map((system?.devices ?? []).map((d) => [d.id, d.iommu]));
  const bonds = new Map((system?.bindings ?? []).map((b) => [b.device, b.process]));
  return {
    iommuOf: (device) => iommus.get(device) ?? '?',
    addressSpaceOf: (flow) => (flow.pasid !== null ? (bonds.get(flow.device) ?? null) : null),
  };
}
