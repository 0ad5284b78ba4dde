/**
 * What the timeline shows: the ended fault flows of the shown live lab (polled from GET /labs/:lab/flows,
 * following its clock) or of a saved run (its whole fault log, GET /runs/:run/faults, loaded with progress),
 * the view's simulated-time window, and the selected flow with the flows related to it.
 */
import type { FlowDetail, SystemView } from '@iommu-lab/client';
import type { SeriesAnswerView } from '@iommu-lab/wire';
import { api, describeError } from '../lib/client';
import {
  type AddressSpaceOf,
  FlowTable,
  type TimelineFlow,
  type TimelineRecord,
  type TimelineTransaction,
  isTransaction,
} from '../lib/timeline/flow-table';
import { type TimelineSeries, seriesBinNs, timelineSeries } from '../lib/timeline/series-strip';
import {
  TRANSACTION_END_KINDS,
  fromDmaEnd,
  fromFaultRecord,
  fromFlowRecord,
  runTopology,
} from '../lib/timeline/sources';
import { MIN_SPAN_NS, type ViewWindow } from '../lib/timeline/view-window';

const POLL_MS = 1000;
/** Pages of 1 000 flows read per poll at most, so a lab that has run for long catches up over a few polls. */
const PAGES_PER_POLL = 20;
const RUN_PAGE = 10_000;
/** A live view opens on the last 200 µs of simulated time, or everything if less. */
const LIVE_SPAN_NS = 200_000;
/** A live timeline keeps the latest this many flows; past it, the older half goes (a run's log is shown whole). */
export const LIVE_MAX_FLOWS = 200_000;
/** The most flows kept related to a selection (outlined on the canvas). */
const RELATED_MAX = 512;

export type Relation = 'group' | 'transaction' | null;

export interface RunSource {
  id: string;
  label: string;
  experiment: string;
  simulatedNs: number;
}

/** The process an SVA fault ran in: the device's bond on that PASID, from a lab's picture. */
export function liveAddressSpaces(picture: () => SystemView | null): AddressSpaceOf {
  return (flow) => {
    const system = picture();
    const device = system?.devices.find((d) => d.id === flow.device);
    const bond = device?.bonds.find((b) => b.pasid === flow.pasid);
    if (bond) return bond.process;
    const domain = device?.pasids.find((p) => p.pasid === flow.pasid)?.domain ?? device?.domain;
    return system?.domains.find((d) => d.id === domain)?.process ?? null;
  };
}

export class TimelineStore {
  mode = $state<'live' | 'run'>('live');
  run = $state<RunSource | null>(null);
  /** The flows; replaced (not mutated in place for Svelte) on a new source, mutated by polls: watch `version`. */
  table = $state.raw(new FlowTable());
  version = $state(0);
  view = $state<ViewWindow>({ startNs: 0, endNs: LIVE_SPAN_NS });
  /** Live: keep the window's end on the lab's clock (off once the user zooms or pans). */
  follow = $state(true);
  /** The lab's simulated time (live) or the run's end. */
  nowNs = $state(0);
  loading = $state<{ done: number; total: number } | null>(null);
  /** The source's series (flows started, queue occupancy), drawn beside the bars; null until read. */
  series = $state.raw<TimelineSeries | null>(null);
  /** Set once a live timeline dropped its older flows (LIVE_MAX_FLOWS). */
  trimmed = $state<string | null>(null);
  /** Why there are none (a run stored without series), or null. */
  seriesNote = $state<string | null>(null);
  error = $state<string | null>(null);

  /** Table index of the selected flow, or -1. */
  selected = $state(-1);
  relation = $state<Relation>(null);
  /** Flow indices related to the selection, -1-terminated (what the canvas outlines). */
  related = $state.raw(new Int32Array([-1]));
  relatedCount = $state(0);
  /** Live: the selected flow's story (its events, causes, effects); null in a run (a fault log keeps no events). */
  story = $state.raw<FlowDetail | null>(null);
  storyError = $state<string | null>(null);

  private lab: string | null = null;
  private picture: () => SystemView | null = () => null;
  private after = -1;
  /** The history's `after` for the transactions' end events. */
  private dmaAfter = -1;
  /** Records read but not yet added (they ended after the clock read at the start of the poll). */
  private pending: TimelineRecord[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private token = 0;

  /** The selected record when it is a fault flow. */
  get selectedFlow(): TimelineFlow | null {
    const record = this.selected >= 0 ? this.table.records[this.selected] : undefined;
    return record === undefined || isTransaction(record) ? null : record;
  }

  /** The selected record when it is a DMA transaction. */
  get selectedTransaction(): TimelineTransaction | null {
    const record = this.selected >= 0 ? this.table.records[this.selected] : undefined;
    return isTransaction(record) ? record : null;
  }

  /** Follows a live lab from its first kept flow. */
  openLive(lab: string, picture: () => SystemView | null): void {
    this.stop();
    const token = ++this.token;
    this.mode = 'live';
    this.run = null;
    this.lab = lab;
    this.trimmed = null;
    this.picture = picture;
    this.after = -1;
    this.dmaAfter = -1;
    this.pending = [];
    this.reset(new FlowTable(liveAddressSpaces(picture)));
    this.follow = true;
    void this.poll(token, true);
  }

  /** Loads a saved run's whole fault log, page by page, with progress. */
  async openRun(id: string): Promise<void> {
    this.stop();
    const token = ++this.token;
    this.mode = 'run';
    this.lab = null;
    this.follow = false;
    this.error = null;
    try {
      const run = await api.runs.get(id);
      const { iommuOf, addressSpaceOf } = runTopology(run.config);
      this.run = { id, label: run.label, experiment: run.experimentId, simulatedNs: run.simulatedNs };
      const table = new FlowTable(addressSpaceOf);
      this.reset(table);
      this.nowNs = run.simulatedNs;
      this.loading = { done: 0, total: run.faultRecords };
      let after = -1;
      for (;;) {
        const page = await api.runs.faults(id, { after, limit: RUN_PAGE });
        if (token !== this.token) return;
        const rows = page.records.map((row) => fromFaultRecord(row, iommuOf));
        // The fault log is in the order flows ended; sort defensively, the culling relies on it.
        rows.sort((a, b) => a.endNs - b.endNs);
        for (const row of rows) table.add(row);
        this.loading = { done: table.count, total: page.total };
        this.version++;
        if (page.records.length < RUN_PAGE || page.next < 0) break;
        after = page.next;
      }
      this.loading = null;
      await this.readSeries(token, () => api.runSeries(id, seriesBinNs(run.simulatedNs)));
      this.fit();
    } catch (error) {
      if (token === this.token) {
        this.error = describeError(error).message;
        this.loading = null;
      }
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.token++;
  }

  private reset(table: FlowTable): void {
    this.table = table;
    this.series = null;
    this.seriesNote = null;
    this.version++;
    this.clearSelection();
    this.error = null;
    this.loading = null;
  }

  private async poll(token: number, first: boolean): Promise<void> {
    const lab = this.lab;
    if (!lab) return;
    try {
      // Everything that ended by the clock read first is in both logs when they are read after it: add up
      // to that time, in end order (the culling needs it), and keep later records for the next poll.
      const clock = await api.labs.clock(lab);
      if (token !== this.token) return;
      for (let page = 0; page < PAGES_PER_POLL; page++) {
        const answer = await api.flows(lab, { after: this.after, limit: 1000 });
        if (token !== this.token) return;
        for (const flow of answer.flows) this.pending.push(fromFlowRecord(flow));
        if (answer.flows.length === 0 || answer.next < 0) break;
        this.after = answer.next;
      }
      for (let page = 0; page < PAGES_PER_POLL; page++) {
        const answer = await api.history.events(lab, {
          after: this.dmaAfter,
          limit: 1000,
          kinds: TRANSACTION_END_KINDS.join(','),
        });
        if (token !== this.token) return;
        for (const event of answer.events) this.pending.push(fromDmaEnd(event));
        if (answer.events.length === 0 || answer.next < 0) break;
        this.dmaAfter = answer.next;
      }
      this.addPendingUpTo(clock.timeNs);
      if (this.table.count > LIVE_MAX_FLOWS) this.keepLatest(lab);
      this.nowNs = Math.max(clock.timeNs, this.table.count > 0 ? this.table.endNs[this.table.count - 1]! : 0);
      await this.readSeries(token, () => api.labSeries(lab, seriesBinNs(this.nowNs)));
      this.version++;
      this.error = null;
      if (first)
        this.view = {
          startNs: Math.max(0, this.nowNs - LIVE_SPAN_NS),
          endNs: Math.max(this.nowNs, MIN_SPAN_NS),
        };
      else if (this.follow) this.followClock();
    } catch (error) {
      if (token !== this.token) return;
      this.error = describeError(error).message;
    }
    this.timer = setTimeout(() => void this.poll(token, false), POLL_MS);
  }

  /** The series beside the flows; a source without them (a run stored without series) says so, nothing fails. */
  private async readSeries(token: number, read: () => Promise<SeriesAnswerView>): Promise<void> {
    try {
      const answer = await read();
      if (token !== this.token) return;
      this.series = timelineSeries(answer);
      this.seriesNote = null;
    } catch (error) {
      if (token === this.token) this.seriesNote = `No series: ${describeError(error).message}`;
    }
  }

  /** Bounded memory for a lab followed for hours: a new table of the latest half (selection cleared). */
  private keepLatest(lab: string): void {
    const kept = this.table.records.slice(this.table.count - LIVE_MAX_FLOWS / 2);
    const table = new FlowTable(liveAddressSpaces(this.picture));
    for (const flow of kept) table.add(flow);
    const series = this.series;
    this.reset(table);
    this.series = series;
    this.trimmed = `Showing the latest ${(LIVE_MAX_FLOWS / 2).toLocaleString('en-US')} flows of lab ${lab}.`;
  }

  /** Adds the pending records that ended by `ns`, in end order; the rest wait. */
  private addPendingUpTo(ns: number): void {
    const ready = this.pending.filter((record) => record.endNs <= ns).sort((a, b) => a.endNs - b.endNs);
    this.pending = this.pending.filter((record) => record.endNs > ns);
    for (const record of ready) this.table.add(record);
  }

  private followClock(): void {
    const span = this.view.endNs - this.view.startNs;
    this.view = { startNs: this.nowNs - span, endNs: this.nowNs };
  }

  /** The user moved the window: stop following the clock. */
  setView(view: ViewWindow): void {
    // Simulated time starts at 0: a window reaching before it slides right rather than show negative time.
    this.view = view.startNs < 0 ? { startNs: 0, endNs: view.endNs - view.startNs } : view;
    this.follow = false;
  }

  setFollow(follow: boolean): void {
    this.follow = follow;
    if (follow) this.followClock();
  }

  /** Every flow in view, with a margin. */
  fit(): void {
    const table = this.table;
    if (table.count === 0) return;
    let start = Infinity;
    for (let i = 0; i < table.count; i++) start = Math.min(start, table.startNs[i]!);
    const end = Math.max(table.endNs[table.count - 1]!, this.mode === 'live' ? this.nowNs : 0);
    const margin = Math.max((end - start) * 0.02, MIN_SPAN_NS);
    this.setView({ startNs: start - margin, endNs: end + margin });
  }

  select(index: number): void {
    this.selected = index;
    this.relation = null;
    this.related = new Int32Array([-1]);
    this.relatedCount = 0;
    this.story = null;
    this.storyError = null;
    const flow = this.selectedFlow;
    if (!flow || this.mode !== 'live' || !this.lab) return;
    const lab = this.lab;
    api.flow(lab, flow.flow).then(
      (story) => {
        if (this.selectedFlow?.flow === flow.flow) this.story = story;
      },
      (error: unknown) => {
        if (this.selectedFlow?.flow === flow.flow) this.storyError = describeError(error).message;
      },
    );
  }

  selectFlowId(id: number): void {
    this.select(this.table.indexOf(id));
  }

  selectTransaction(id: number): void {
    this.select(this.table.indexOfTransaction(id));
  }

  clearSelection(): void {
    this.select(-1);
  }

  /** Outlines the flows that share the selection's group (or transaction) and frames them all. */
  relate(relation: Exclude<Relation, null>): void {
    const flow = this.selectedFlow;
    if (!flow) return;
    const table = this.table;
    const matches: number[] = [];
    // The transaction's own bar is outlined too, but not counted among its flows.
    const bars: number[] = [];
    for (let i = 0; i < table.count && matches.length < RELATED_MAX; i++) {
      const other = table.records[i]!;
      if (i === this.selected || other.device !== flow.device) continue;
      if (isTransaction(other)) {
        if (relation === 'transaction' && other.transaction === flow.transaction) bars.push(i);
        continue;
      }
      if (other.iommu !== flow.iommu) continue;
      if (
        relation === 'group'
          ? other.group === flow.group && flow.group !== null
          : other.transaction === flow.transaction && flow.transaction !== null
      )
        matches.push(i);
    }
    this.relation = relation;
    this.related = Int32Array.from([...matches, ...bars, -1]);
    this.relatedCount = matches.length;
    let start = flow.startNs;
    let end = flow.endNs;
    for (const i of [...matches, ...bars]) {
      start = Math.min(start, table.startNs[i]!);
      end = Math.max(end, table.endNs[i]!);
    }
    const margin = Math.max((end - start) * 0.1, MIN_SPAN_NS);
    this.setView({ startNs: start - margin, endNs: end + margin });
  }

  /** Frames one flow. */
  frame(index: number): void {
    const table = this.table;
    if (index < 0 || index >= table.count) return;
    const start = table.startNs[index]!;
    const end = table.endNs[index]!;
    const margin = Math.max((end - start) * 0.5, MIN_SPAN_NS);
    this.setView({ startNs: start - margin, endNs: end + margin });
  }
}

export const timelineStore = new TimelineStore();
