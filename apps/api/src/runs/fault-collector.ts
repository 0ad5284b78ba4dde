/**
 * Turns a run's ended fault flows into fault-log rows: the emulator's anatomy record of each fault
 * (flow.ended), one row per flow, with every hop's latency in its own column (null where the hop did not
 * apply). Nothing is re-paired here: the emulator knows each fault's answer when it gives it.
 */
import { type FlowRecord, HOPS, type System } from '@iommu-lab/emulator';
import type { FaultRow } from '@iommu-lab/db';
import { storedRecordsText } from './fault-log-records';

/** The fault log's `kind` for each mechanism (the column predates flows; its values are kept). */
const KIND = {
  pri: 'page-request',
  stall: 'stall',
  'self-faulting': 'device-handled',
  unrecoverable: 'unrecoverable',
} as const;

/** Each hop's position among the hop columns, which follow the emulator's HOPS (a test holds them equal). */
const HOP_INDEX = new Map<string, number>(HOPS.map((hop, i) => [hop, i]));

export function faultRow(seq: number, flow: FlowRecord): FaultRow {
  const hops: (number | null)[] = new Array<number | null>(HOPS.length).fill(null);
  for (const { hop, ns } of flow.hops) hops[HOP_INDEX.get(hop)!] = ns;
  const costs = flow.handlerCosts;
  return [
    seq,
    flow.startNs,
    flow.device,
    flow.pasid,
    flow.address,
    flow.access,
    flow.category,
    flow.stage,
    KIND[flow.mechanism],
    flow.code ?? flow.outcome.toUpperCase(),
    flow.latencyNs,
    flow.flow,
    flow.transaction,
    flow.group,
    flow.handler,
    flow.cause,
    flow.outcome,
    flow.endNs,
    flow.causes.join(','),
    flow.replaces?.flow ?? null,
    flow.replaces?.because ?? null,
    hops[0] ?? null,
    hops[1] ?? null,
    hops[2] ?? null,
    hops[3] ?? null,
    hops[4] ?? null,
    hops[5] ?? null,
    hops[6] ?? null,
    hops[7] ?? null,
    hops[8] ?? null,
    hops[9] ?? null,
    hops[10] ?? null,
    hops[11] ?? null,
    hops[12] ?? null,
    hops[13] ?? null,
    hops[14] ?? null,
    costs?.mmFaultNs ?? null,
    costs?.mapNs ?? null,
    costs?.evictionNs ?? null,
    costs?.guestNs ?? null,
    flow.reason,
    storedRecordsText(flow.records),
  ];
}

export class FaultCollector {
  /** Records not yet taken. */
  rows: FaultRow[] = [];
  private seq = 0;

  /** `skip`: the first records are not kept (they are on disk from an earlier attempt of the run). */
  constructor(system: System, skip = 0) {
    system.on('flow.ended', (flow) => {
      const seq = this.seq++;
      if (seq >= skip) this.rows.push(faultRow(seq, flow));
    });
  }

  /** The first `max` of the records gathered since the last call (all of them by default). */
  take(max = Number.POSITIVE_INFINITY): FaultRow[] {
    if (this.rows.length <= max) {
      const rows = this.rows;
      this.rows = [];
      return rows;
    }
    return this.rows.splice(0, max);
  }
}
