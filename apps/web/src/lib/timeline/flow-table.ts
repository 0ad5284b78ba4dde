/**
 * The timeline's data: ended fault flows laid out as bars on tracks, in typed arrays so that a frame can
 * draw tens of thousands of them without allocating (the drawing reads these arrays and nothing else).
 *
 * A DMA transaction of a live lab (its dma.completed or dma.faulted event) is one bar on its device's DMA
 * track, from submission to its end: the flows it went through happen inside it.
 * A flow gives up to four bars, one per track it crossed (the idea of Perfetto's flows: one causal chain
 * over several tracks):
 * - its device's track (per PASID, per stage when a device faults at both): the whole flow, every hop in
 *   its phase's colour;
 * - its IOMMU's queue track: the time its request sat in the hardware queue (queueWait);
 * - its handler's track: the handler, an outside client or the timeout (handler, clientWait, timeout);
 * - the address space it faulted in: the mm fault (a self-faulting device's mmFault hop, or the part of the
 *   kernel handler spent in handle_mm_fault, placed after its fixed cost).
 * Bars that overlap on a track go to lanes (greedy, at most MAX_LANES, thinner the more there are; beyond that they share the last).
 *
 * Flows arrive in the order they ended (a lab's flow log and a run's fault log are both kept that way), so
 * `endNs` is sorted and a visible range is found by binary search (see `firstEndingAfter`).
 */
import type { WireRecord } from '@iommu-lab/client';
import { TRANSACTION_SEGMENT, phaseIndex } from './phases';

export const MAX_LANES = 32;

export const TRACK_KINDS = ['dma', 'device', 'queue', 'handler', 'address space'] as const;
export type TrackKind = (typeof TRACK_KINDS)[number];

/** What the timeline needs of a flow: the lab's flow record, or a run's fault-log row rebuilt as one. */
export interface TimelineFlow {
  flow: number;
  mechanism: string;
  transaction: number | null;
  iommu: string;
  device: string;
  pasid: number | null;
  address: string;
  access: string;
  stage: 1 | 2 | null;
  category: string | null;
  handler: string | null;
  group: number | null;
  code: string | null;
  /** An unrecoverable fault's code as its hardware recorded it (VT-d fault reason, SMMUv3 event ID), hex. */
  reason?: string | null;
  cause: string | null;
  outcome: string;
  startNs: number;
  endNs: number;
  latencyNs: number;
  hops: { hop: string; startNs: number; ns: number }[];
  handlerCosts: {
    fixedNs: number;
    mmFaultNs: number;
    mapNs: number;
    evictionNs: number;
    guestNs: number;
  } | null;
  causes: number[];
  replaces: { flow: number; because: string } | null;
  /** What each layer wrote for it, byte for byte (a live lab's flows; a saved run's fault log has none). */
  records?: { atNs: number; layer: string; record: WireRecord }[];
}

/** A DMA transaction as the timeline draws it (lab events dma.completed / dma.faulted). */
export interface TimelineTransaction {
  kind: 'dma';
  transaction: number;
  device: string;
  pasid: number | null;
  address: string;
  length: number;
  access: string;
  /** completed, or faulted: it ended with an error completion. */
  outcome: 'completed' | 'faulted';
  startNs: number;
  endNs: number;
  latencyNs: number;
  /** Faults resolved on the way. */
  recoveries: number;
  /** Every fault flow it went through, in order. */
  flows: number[];
}

export type TimelineRecord = TimelineFlow | TimelineTransaction;

export const isTransaction = (record: TimelineRecord | null | undefined): record is TimelineTransaction =>
  record !== null && record !== undefined && 'kind' in record;

export interface Track {
  kind: TrackKind;
  key: string;
  label: string;
  /** Lanes in use (1 … MAX_LANES). */
  lanes: number;
  /** Where each lane's last bar ends, for the greedy lane choice. */
  readonly laneEnd: Float64Array;
  /** For device tracks: the device (labels name the stage only when one device faults at both). */
  device?: string;
  pasid?: number | null;
  stage?: 1 | 2 | null;
}

/** Says which address space a flow's mm fault ran in (a process from the lab's bonds), or null when none. */
export type AddressSpaceOf = (flow: TimelineFlow) => string | null;

const HANDLER_HOPS = new Set(['handler', 'clientWait', 'timeout']);
const MM_PHASE = phaseIndex('mmFault');

/** Growable typed arrays: growth copies (rare, while loading), drawing never allocates. */
function grown<T extends Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array | Int8Array>(
  array: T,
  size: number,
): T {
  const next = new (array.constructor as new (n: number) => T)(size);
  next.set(array);
  return next;
}

export class FlowTable {
  // ——— flows ———
  count = 0;
  flowId = new Int32Array(1024);
  startNs = new Float64Array(1024);
  endNs = new Float64Array(1024);
  firstBar = new Uint32Array(1024);
  barCount = new Uint8Array(1024);
  /** The flow's first cause that is in the table (its index), or -1: the arrow drawn into it. */
  causeIndex = new Int32Array(1024);
  /** The records themselves, for the detail pane (never read while drawing). */
  readonly records: TimelineRecord[] = [];
  /** How many of the records are DMA transactions (the rest are fault flows). */
  transactions = 0;
  /** Longest flow so far: how far before a range's start a flow ending inside it may begin. */
  maxLatencyNs = 0;
  /** False if a flow ever arrived out of end order; culling then scans everything. */
  sorted = true;

  // ——— bars ———
  bars = 0;
  barTrack = new Uint16Array(4096);
  barLane = new Uint8Array(4096);
  barStart = new Float64Array(4096);
  barEnd = new Float64Array(4096);
  barFlow = new Uint32Array(4096);
  firstSeg = new Uint32Array(4096);
  segCount = new Uint8Array(4096);

  // ——— segments (a bar's coloured pieces) ———
  segs = 0;
  segStart = new Float64Array(8192);
  segEnd = new Float64Array(8192);
  segPhase = new Uint8Array(8192);

  readonly tracks: Track[] = [];
  private readonly trackByKey = new Map<string, number>();
  private readonly indexById = new Map<number, number>();
  private readonly indexByTransaction = new Map<number, number>();
  /** Bumped when a track is added or gains a lane: the layout must be recomputed. */
  layoutVersion = 0;
  /** Bumped on every change: a frame must be drawn. */
  version = 0;

  constructor(private readonly addressSpaceOf: AddressSpaceOf = () => null) {}

  /** The table index of a flow id, or -1. */
  indexOf(flow: number): number {
    return this.indexById.get(flow) ?? -1;
  }

  /** Fault flows in the table (the records that are not transactions). */
  get flowCount(): number {
    return this.count - this.transactions;
  }

  /** The table index of a DMA transaction, or -1. */
  indexOfTransaction(transaction: number): number {
    return this.indexByTransaction.get(transaction) ?? -1;
  }

  add(record: TimelineRecord): void {
    if (isTransaction(record)) this.addTransaction(record);
    else this.addFlow(record);
  }

  /** A row of the flow arrays for a record ending at endNs (culling needs the ends sorted). */
  private row(id: number, startNs: number, endNs: number): number {
    const i = this.count;
    if (i === this.flowId.length) this.growFlows(i * 2);
    if (i > 0 && endNs < this.endNs[i - 1]!) this.sorted = false;
    this.flowId[i] = id;
    this.startNs[i] = startNs;
    this.endNs[i] = endNs;
    this.firstBar[i] = this.bars;
    this.causeIndex[i] = -1;
    this.count++;
    this.maxLatencyNs = Math.max(this.maxLatencyNs, endNs - startNs);
    return i;
  }

  private addTransaction(tx: TimelineTransaction): void {
    if (this.indexByTransaction.has(tx.transaction)) return;
    const i = this.row(tx.transaction, tx.startNs, tx.endNs);
    this.records.push(tx);
    this.indexByTransaction.set(tx.transaction, i);
    this.transactions++;
    this.bar(i, this.track('dma', tx.device, `${tx.device} · DMA`), tx.startNs, tx.endNs);
    this.seg(tx.startNs, tx.endNs, TRANSACTION_SEGMENT);
    this.barCount[i] = 1;
    this.version++;
  }

  private addFlow(flow: TimelineFlow): void {
    if (this.indexById.has(flow.flow)) return;
    const i = this.row(flow.flow, flow.startNs, flow.endNs);
    for (const cause of flow.causes) {
      const at = this.indexById.get(cause);
      if (at !== undefined) {
        this.causeIndex[i] = at;
        break;
      }
    }
    this.records.push(flow);
    this.indexById.set(flow.flow, i);

    const deviceTrack = this.deviceTrack(flow);
    this.bar(i, deviceTrack, flow.startNs, flow.endNs);
    for (const hop of flow.hops) this.seg(hop.startNs, hop.startNs + hop.ns, phaseIndex(hop.hop));
    if (flow.hops.length === 0) this.seg(flow.startNs, flow.endNs, phaseIndex('dispatch'));

    const queue = flow.hops.find((hop) => hop.hop === 'queueWait');
    if (queue && queue.ns > 0) {
      this.bar(
        i,
        this.track('queue', flow.iommu, `${flow.iommu} · hardware queue`),
        queue.startNs,
        queue.startNs + queue.ns,
      );
      this.seg(queue.startNs, queue.startNs + queue.ns, phaseIndex('queueWait'));
    }

    const handled = flow.hops.filter((hop) => HANDLER_HOPS.has(hop.hop));
    if (handled.length > 0) {
      const who = flow.handler ?? (handled.some((hop) => hop.hop === 'timeout') ? 'timeout' : 'handler');
      const first = handled[0]!;
      const last = handled[handled.length - 1]!;
      this.bar(i, this.track('handler', who, `handler ${who}`), first.startNs, last.startNs + last.ns);
      for (const hop of handled) this.seg(hop.startNs, hop.startNs + hop.ns, phaseIndex(hop.hop));
    }

    const space = this.addressSpaceOf(flow);
    const mm = this.mmFault(flow);
    if (space !== null && mm !== null) {
      this.bar(i, this.track('address space', space, `address space ${space}`), mm[0], mm[1]);
      this.seg(mm[0], mm[1], MM_PHASE);
    }
    this.barCount[i] = this.bars - this.firstBar[i]!;
    this.version++;
  }

  /** The mm fault's span: the mmFault hop, or the handler's handle_mm_fault cost after its fixed cost. */
  private mmFault(flow: TimelineFlow): [number, number] | null {
    const own = flow.hops.find((hop) => hop.hop === 'mmFault');
    if (own && own.ns > 0) return [own.startNs, own.startNs + own.ns];
    const handler = flow.hops.find((hop) => hop.hop === 'handler');
    const costs = flow.handlerCosts;
    if (!handler || !costs || costs.mmFaultNs <= 0) return null;
    const start = handler.startNs + costs.fixedNs;
    return [start, Math.min(start + costs.mmFaultNs, handler.startNs + handler.ns)];
  }

  /** First flow index whose end is at or after `ns` (binary search over the sorted ends). */
  firstEndingAfter(ns: number): number {
    if (!this.sorted) return 0;
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.endNs[mid]! < ns) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** One past the last flow that can start at or before `ns`. */
  lastStartingBefore(ns: number): number {
    if (!this.sorted) return this.count;
    return this.firstEndingAfter(ns + this.maxLatencyNs + 1);
  }

  private deviceTrack(flow: TimelineFlow): number {
    const key = `${flow.device}|${flow.pasid ?? ''}|${flow.stage ?? ''}`;
    const known = this.trackByKey.get(key);
    if (known !== undefined) return known;
    const index = this.track('device', key, '');
    Object.assign(this.tracks[index]!, { device: flow.device, pasid: flow.pasid, stage: flow.stage });
    this.labelDevice(flow.device);
    return index;
  }

  /** A device's track labels: the PASID when there is one, the stage when the device faults at both. */
  private labelDevice(device: string): void {
    const mine = this.tracks.filter((track) => track.kind === 'device' && track.device === device);
    const stages = new Set(mine.map((track) => track.stage));
    for (const track of mine) {
      const pasid = track.pasid === null || track.pasid === undefined ? '' : ` · PASID ${track.pasid}`;
      const stage = stages.size > 1 && track.stage ? ` · stage ${track.stage}` : '';
      track.label = `${device}${pasid}${stage}`;
    }
  }

  private track(kind: TrackKind, key: string, label: string): number {
    const full = kind === 'device' ? key : `${kind}|${key}`;
    const known = this.trackByKey.get(full);
    if (known !== undefined) return known;
    this.tracks.push({
      kind,
      key: full,
      label,
      lanes: 1,
      laneEnd: new Float64Array(MAX_LANES).fill(-Infinity),
    });
    this.trackByKey.set(full, this.tracks.length - 1);
    this.layoutVersion++;
    return this.tracks.length - 1;
  }

  private bar(flow: number, track: number, start: number, end: number): void {
    if (this.bars === this.barTrack.length) this.growBars(this.bars * 2);
    const t = this.tracks[track]!;
    let lane = 0;
    while (lane < MAX_LANES - 1 && t.laneEnd[lane]! > start) lane++;
    t.laneEnd[lane] = Math.max(t.laneEnd[lane]!, end);
    if (lane + 1 > t.lanes) {
      t.lanes = lane + 1;
      this.layoutVersion++;
    }
    const b = this.bars++;
    this.barTrack[b] = track;
    this.barLane[b] = lane;
    this.barStart[b] = start;
    this.barEnd[b] = end;
    this.barFlow[b] = flow;
    this.firstSeg[b] = this.segs;
    this.segCount[b] = 0;
  }

  private seg(start: number, end: number, phase: number): void {
    if (this.segs === this.segStart.length) this.growSegs(this.segs * 2);
    const s = this.segs++;
    this.segStart[s] = start;
    this.segEnd[s] = end;
    this.segPhase[s] = phase;
    this.segCount[this.bars - 1]!++;
  }

  private growFlows(size: number): void {
    this.flowId = grown(this.flowId, size);
    this.startNs = grown(this.startNs, size);
    this.endNs = grown(this.endNs, size);
    this.firstBar = grown(this.firstBar, size);
    this.barCount = grown(this.barCount, size);
    this.causeIndex = grown(this.causeIndex, size);
  }

  private growBars(size: number): void {
    this.barTrack = grown(this.barTrack, size);
    this.barLane = grown(this.barLane, size);
    this.barStart = grown(this.barStart, size);
    this.barEnd = grown(this.barEnd, size);
    this.barFlow = grown(this.barFlow, size);
    this.firstSeg = grown(this.firstSeg, size);
    this.segCount = grown(this.segCount, size);
  }

  private growSegs(size: number): void {
    this.segStart = grown(this.segStart, size);
    this.segEnd = grown(this.segEnd, size);
    this.segPhase = grown(this.segPhase, size);
  }
}
