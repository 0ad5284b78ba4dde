/**
 * A lab's ended fault flows: the most recent anatomy records (the emulator's `flow.ended` events) in a
 * ring, by flow id, for listing with filters and for telling one flow's story: its events from the lab's
 * history, the flows it followed from (causes), the flows that followed from it (effects), and the flow
 * that brought back the page it had resolved (replacedBy).
 *
 * Records keep their flow.ended event's sequence number, so a list pages like the history (`after`). The
 * ring forgets the oldest ended flows; which ids ever ended is kept as ranges, so a forgotten flow is
 * told apart from one that never existed (or has not ended yet).
 */
import type { EmulatorEvent, EventOf } from '@iommu-lab/emulator';
import type { FlowQueryType } from '@iommu-lab/wire';
import { ServiceError } from '../plugins/errors';
import { namesFlow } from '../stream/event-filter';
import type { EventLog } from './event-log';

/** A kept record: the flow.ended event itself (its `seq` is what lists page by). */
export type KeptFlow = EventOf<'flow.ended'>;

export type FlowMatcher = (flow: KeptFlow) => boolean;

export interface FlowStory {
  flow: KeptFlow;
  events: EmulatorEvent[];
  oldest: number;
  causes: KeptFlow[];
  effects: KeptFlow[];
  replacedBy: KeptFlow | null;
}

export class FlowLog {
  private readonly ring: (KeptFlow | undefined)[];
  private start = 0;
  private count = 0;
  private readonly byId = new Map<number, KeptFlow>();
  private ended = new IdRanges();

  constructor(
    readonly labId: string,
    readonly capacity: number,
  ) {
    this.ring = new Array<KeptFlow | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Sequence number of the oldest kept flow's flow.ended event; -1 when none is kept. */
  get oldestSeq(): number {
    return this.count === 0 ? -1 : this.at(0).seq;
  }

  push(flow: KeptFlow): void {
    this.ended.add(flow.flow);
    if (this.count === this.capacity) {
      this.byId.delete(this.at(0).flow);
      this.ring[this.start] = flow;
      this.start = (this.start + 1) % this.capacity;
    } else {
      this.ring[(this.start + this.count) % this.capacity] = flow;
      this.count++;
    }
    this.byId.set(flow.flow, flow);
  }

  /** The kept record of `id`; a 404 that says whether the lab forgot it or never ended such a flow. */
  get(id: number): KeptFlow {
    const flow = this.byId.get(id);
    if (flow) return flow;
    if (this.ended.has(id))
      throw new ServiceError(
        'not-found',
        'ENOENT',
        `flow ${id} of lab ${this.labId} ended, but the lab keeps only its last ${this.capacity} ended flows and it is older.`,
        'flow-forgotten',
      );
    throw new ServiceError(
      'not-found',
      'ENOENT',
      `lab ${this.labId} has no ended flow ${id} (a flow still in progress is listed once it ends).`,
      'no-such-flow',
    );
  }

  /** Up to `limit` flows whose flow.ended came after `after`, that match, oldest first. */
  page(after: number, limit: number, match: FlowMatcher): KeptFlow[] {
    const out: KeptFlow[] = [];
    for (let index = this.firstAfter(after); index < this.count && out.length < limit; index++) {
      const flow = this.at(index);
      if (match(flow)) out.push(flow);
    }
    return out;
  }

  /** The `n` slowest flows that match, slowest first (earlier ended first among equals). */
  slowest(n: number, match: FlowMatcher): KeptFlow[] {
    const out: KeptFlow[] = [];
    for (let index = 0; index < this.count; index++) {
      const flow = this.at(index);
      if (!match(flow)) continue;
      if (out.length === n && out[n - 1]!.latencyNs >= flow.latencyNs) continue;
      // Insert in order; n is at most 1,000, so shifting beats a heap for clarity at no real cost.
      let at = out.length < n ? out.length : n - 1;
      out[at] = flow;
      while (at > 0 && out[at - 1]!.latencyNs < flow.latencyNs) {
        out[at] = out[at - 1]!;
        out[--at] = flow;
      }
    }
    return out;
  }

  /** One flow's story: its record, its events in order, its causes, its effects, the flow that replaced it. */
  story(id: number, history: EventLog): FlowStory {
    const flow = this.get(id);
    const { transaction, startNs, endNs } = flow;
    // The DMA's side: its transaction's dma.* events while this flow held it (the resumed page included).
    const ofTransaction = (event: EmulatorEvent) =>
      transaction !== null &&
      event.kind.startsWith('dma.') &&
      (event as unknown as { transaction?: number }).transaction === transaction &&
      event.timeNs >= startNs &&
      event.timeNs <= endNs;
    const events = history.page(
      -1,
      Number.POSITIVE_INFINITY,
      (event) => namesFlow(event, id) || ofTransaction(event),
    );
    const causes = flow.causes.flatMap((cause) => this.byId.get(cause) ?? []);
    const effects: KeptFlow[] = [];
    let replacedBy: KeptFlow | null = null;
    for (let index = 0; index < this.count; index++) {
      const other = this.at(index);
      if (other.causes.includes(id)) effects.push(other);
      if (other.replaces?.flow === id) replacedBy = other;
    }
    return { flow, events, oldest: history.oldestSeq, causes, effects, replacedBy };
  }

  clear(): void {
    this.ring.fill(undefined);
    this.start = 0;
    this.count = 0;
    this.byId.clear();
    this.ended = new IdRanges();
  }

  private at(index: number): KeptFlow {
    return this.ring[(this.start + index) % this.capacity]!;
  }

  /** Index of the first kept flow whose seq is above `after` (seqs grow along the ring). */
  private firstAfter(after: number): number {
    let low = 0;
    let high = this.count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.at(middle).seq <= after) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/** The list filters: each one given must match. */
export function compileFlowFilter(query: FlowQueryType): FlowMatcher {
  const { device, pasid, mechanism, outcome, code, stage, category, minLatencyNs } = query;
  return (flow) =>
    (device === undefined || flow.device === device) &&
    (pasid === undefined || flow.pasid === pasid) &&
    (mechanism === undefined || flow.mechanism === mechanism) &&
    (outcome === undefined || flow.outcome === outcome) &&
    (code === undefined || flow.code === code) &&
    (stage === undefined || flow.stage === stage) &&
    (category === undefined || flow.category === category) &&
    (minLatencyNs === undefined || flow.latencyNs >= minLatencyNs);
}

/**
 * A set of flow ids as sorted disjoint ranges. Flows end roughly in the order they started, so the ranges
 * stay few: a gap is a flow that has not ended yet, and closes when it does.
 */
class IdRanges {
  private readonly lows: number[] = [];
  private readonly highs: number[] = [];

  has(id: number): boolean {
    const at = this.rangeAtOrBefore(id);
    return at >= 0 && this.highs[at]! >= id;
  }

  add(id: number): void {
    const at = this.rangeAtOrBefore(id);
    if (at >= 0 && this.highs[at]! >= id) return;
    const joinsLeft = at >= 0 && this.highs[at] === id - 1;
    const joinsRight = at + 1 < this.lows.length && this.lows[at + 1] === id + 1;
    if (joinsLeft && joinsRight) {
      this.highs[at] = this.highs[at + 1]!;
      this.lows.splice(at + 1, 1);
      this.highs.splice(at + 1, 1);
    } else if (joinsLeft) this.highs[at] = id;
    else if (joinsRight) this.lows[at + 1] = id;
    else {
      this.lows.splice(at + 1, 0, id);
      this.highs.splice(at + 1, 0, id);
    }
  }

  /** Index of the last range starting at or below `id`, -1 if none. */
  private rangeAtOrBefore(id: number): number {
    let low = 0;
    let high = this.lows.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.lows[middle]! <= id) low = middle + 1;
      else high = middle;
    }
    return low - 1;
  }
}
