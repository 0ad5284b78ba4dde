/**
 * Turns what a run recorded (trace-recorder.ts) into trace events laid out for Perfetto:
 *
 * - a process per IOMMU: its driver's fault queue as async slices, one per iopf group (group complete →
 *   response written), with the group's dispatch, handler and response nested in it; queue occupancy and
 *   IOTLB hit rate counters; exceptional events (overflow, discarded partials, unrecoverable) as instants;
 * - a process per device: one async slice per DMA transaction (with its fault waits and retries nested)
 *   and one per fault flow (with its hops nested: they are consecutive and sum to the flow's latency), on
 *   tracks named by the mechanism and the PASID; PRI credits in use and ATC hit rate counters;
 * - flows (arrows) per page request group: request → request of the same PRG → group → handler → response
 *   → the retry of the transaction; a stall, a device's own fault or an ungrouped response has the same
 *   chain with the steps that apply.
 *
 * Slices come from the anatomy records (flow.ended) and the DMA ends, never from re-pairing events, so
 * everything nests exactly. Times are simulated µs.
 */
import type { EmulatorEvent, EventOf } from '@iommu-lab/emulator';
import { AsyncTrack, type TraceEvent, ns } from './trace-events';

export type FlowRecord = EventOf<'flow.ended'>;
type DmaEnd = EventOf<'dma.completed'> | EventOf<'dma.faulted'>;

/** Everything the trace is drawn from, as the recorder collected it. */
export interface TraceInput {
  /** Each IOMMU with the names of its page request queue and its fault (event) queue. */
  iommus: { id: string; pageRequestQueue: string; faultQueue: string }[];
  devices: { id: string; iommu: string }[];
  flows: FlowRecord[];
  dmaEnds: DmaEnd[];
  retries: EventOf<'dma.retried'>[];
  /** Per device: [timeNs, change in PRI requests outstanding] (null: a reset forgot them all). */
  credits: Map<string, [number, number | null][]>;
  /** Per device: [timeNs, source] of every translated DMA page. */
  pages: Map<string, [number, string][]>;
  instants: EmulatorEvent[];
  /** The run's simulated span: when its last event happened. */
  nowNs: number;
}

const MECHANISM_TRACK = {
  pri: 'page requests',
  stall: 'stalls',
  'self-faulting': 'device faults',
  unrecoverable: 'unrecoverable faults',
} as const;

/** The hops of a group that the driver's queue does (the rest happen in the device, PCIe or the IOMMU). */
const GROUP_HOPS = new Set(['dispatch', 'handler', 'clientWait', 'timeout', 'responseWrite']);

const pasidLabel = (pasid: number | null) => (pasid === null ? 'RID' : `PASID ${pasid}`);

/** 1, 2 or 5 × a power of ten, at least `x`. */
function niceNs(x: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(1, x)));
  for (const step of [1, 2, 5, 10]) if (step * power >= x) return step * power;
  return 10 * power;
}

/** Bins of the hit-rate counters: about 200 over the run. */
export function hitRateBinNs(spanNs: number): number {
  return niceNs(Math.max(100, spanNs / 200));
}

export function buildTrace(input: TraceInput): TraceEvent[] {
  const meta: TraceEvent[] = [];
  const pids = new Map<string, number>();
  const instantTid = (pid: number) => 1000 + pid;
  const process = (key: string, name: string, thread: string) => {
    const pid = pids.size + 1;
    pids.set(key, pid);
    meta.push({ name: 'process_name', ph: 'M', pid, tid: pid, args: { name } });
    meta.push({ name: 'process_sort_index', ph: 'M', pid, tid: pid, args: { sort_index: pid } });
    meta.push({ name: 'thread_name', ph: 'M', pid, tid: instantTid(pid), args: { name: thread } });
    return pid;
  };
  for (const iommu of input.iommus) process(`iommu:${iommu.id}`, `iommu ${iommu.id}`, 'fault queue events');
  for (const device of input.devices) process(`device:${device.id}`, `device ${device.id}`, 'device events');
  const pidOf = (kind: 'iommu' | 'device', id: string) =>
    pids.get(`${kind}:${id}`) ?? process(`${kind}:${id}`, `${kind} ${id}`, `${kind} events`);

  const tracks: AsyncTrack[] = [];
  /** Chain id → the events it passes through, in causal order. */
  const chains = new Map<number, TraceEvent[]>();
  const chainOfFlow = new Map<number, number>();
  const chainEnded = new Set<number>();
  const flows = [...input.flows].sort((a, b) => a.flow - b.flow);
  const flowById = new Map(flows.map((record) => [record.flow, record]));

  // Fault flows, hops nested.
  const roots = new Map<number, TraceEvent>();
  for (const record of flows) {
    const track = new AsyncTrack(pidOf('device', record.device), 'fault', `flow ${record.flow}`);
    tracks.push(track);
    const name = `${MECHANISM_TRACK[record.mechanism]} · ${pasidLabel(record.pasid)}`;
    roots.set(record.flow, track.begin(name, record.startNs, flowArgs(record)));
    for (const hop of record.hops)
      if (hop.ns > 0) track.child(hop.hop, hop.startNs, hop.startNs + hop.ns, { ns: hop.ns });
    track.end(name, record.endNs);
  }

  // The driver's fault queue: one slice per group, from the group's complete to its response written.
  const groups = new Map<number, FlowRecord[]>();
  for (const record of flows)
    if (record.group !== null) {
      const members = groups.get(record.group);
      if (members) members.push(record);
      else groups.set(record.group, [record]);
    }
  for (const [group, members] of [...groups].sort((a, b) => a[0] - b[0])) {
    const answered = members.filter((m) => m.hops.some((h) => h.hop === 'responseWrite'));
    const record = (answered.length > 0 ? answered : members).at(-1)!;
    const phases = record.hops.filter((hop) => GROUP_HOPS.has(hop.hop));
    const chain = members[0]!.flow;
    const points = members.map((m) => roots.get(m.flow)!);
    for (const m of members) chainOfFlow.set(m.flow, chain);
    chains.set(chain, points);
    if (phases.length === 0) continue;
    const track = new AsyncTrack(pidOf('iommu', record.iommu), 'group', `group ${group}`);
    tracks.push(track);
    const name = record.handler === 'guest' ? 'guest fault queue' : 'fault queue';
    const last = phases.at(-1)!;
    points.push(
      track.begin(name, phases[0]!.startNs, {
        group,
        device: record.device,
        pasid: record.pasid,
        category: record.category,
        stage: record.stage,
        handler: record.handler,
        code: record.code,
        flows: members.map((m) => m.flow),
      }),
    );
    for (const phase of phases) {
      const response = phase.hop === 'responseWrite';
      if (phase.ns === 0 && !response) continue;
      const label = response
        ? `response ${record.code}`
        : phase.hop === 'handler'
          ? `handler ${record.handler}`
          : phase.hop;
      const args = response
        ? { code: record.code, cause: record.cause, flows: answered.map((m) => m.flow) }
        : { ns: phase.ns };
      const slice = track.child(label, phase.startNs, phase.startNs + phase.ns, args);
      if (phase.hop !== 'dispatch') points.push(slice);
    }
    track.end(name, last.startNs + last.ns);
  }

  // Flows answered without a group (a denied request, the IOMMU's automatic response) and flows with
  // no response at all (a device's own fault): a chain of their own.
  for (const record of flows) {
    if (chainOfFlow.has(record.flow)) continue;
    chainOfFlow.set(record.flow, record.flow);
    const points = [roots.get(record.flow)!];
    chains.set(record.flow, points);
    const hop = record.hops.find((h) => h.hop === 'responseWrite' || h.hop === 'overflowResponse');
    if (!hop) continue;
    const track = new AsyncTrack(pidOf('iommu', record.iommu), 'group', `response ${record.flow}`);
    tracks.push(track);
    const label = `response ${record.code}${hop.hop === 'overflowResponse' ? ' (automatic)' : ''}`;
    track.begin('fault queue', hop.startNs, {
      device: record.device,
      pasid: record.pasid,
      flows: [record.flow],
    });
    points.push(
      track.child(label, hop.startNs, hop.startNs + hop.ns, {
        code: record.code,
        cause: record.cause,
        flows: [record.flow],
      }),
    );
    track.end('fault queue', hop.startNs + hop.ns);
  }

  // DMA transactions: their fault waits and retries nested; a retry ends the chains it resumed.
  const retries = new Map<number, EventOf<'dma.retried'>[]>();
  for (const retry of input.retries) {
    const list = retries.get(retry.transaction);
    if (list) list.push(retry);
    else retries.set(retry.transaction, [retry]);
  }
  const firstStart = (ids: number[]) =>
    Math.min(...ids.map((id) => flowById.get(id)?.startNs ?? Number.POSITIVE_INFINITY));
  for (const end of [...input.dmaEnds].sort((a, b) => a.transaction - b.transaction)) {
    const track = new AsyncTrack(pidOf('device', end.device), 'dma', `transaction ${end.transaction}`);
    tracks.push(track);
    const startNs = end.timeNs - end.latencyNs;
    const name = `DMA · ${pasidLabel(end.pasid)}`;
    track.begin(name, startNs, {
      transaction: end.transaction,
      access: end.access,
      length: end.length,
      address: end.address,
      outcome: end.kind === 'dma.faulted' ? `faulted: ${end.error}` : 'completed',
      latencyNs: end.latencyNs,
      recoveries: end.recoveries,
      flows: end.flows,
    });
    let atNs = startNs;
    const retried = new Set<number>();
    for (const retry of retries.get(end.transaction) ?? []) {
      if (retry.timeNs < atNs || retry.timeNs > end.timeNs) continue;
      const waitNs = Math.max(atNs, firstStart(retry.flows));
      if (waitNs <= retry.timeNs) track.child('fault wait', waitNs, retry.timeNs, { flows: retry.flows });
      const resumed = new Set(retry.flows.map((flow) => chainOfFlow.get(flow)));
      for (const chain of resumed) {
        if (chain === undefined || chainEnded.has(chain)) continue;
        chainEnded.add(chain);
        chains.get(chain)!.push(track.mark('retry', retry.timeNs, { flows: retry.flows }));
      }
      for (const flow of retry.flows) retried.add(flow);
      atNs = retry.timeNs;
    }
    const failedOn = end.flows.filter((flow) => !retried.has(flow) && flowById.has(flow));
    const waitNs = Math.max(atNs, firstStart(failedOn));
    if (failedOn.length > 0 && waitNs <= end.timeNs)
      track.child('fault wait', waitNs, end.timeNs, { flows: failedOn });
    track.end(name, end.timeNs);
  }

  const timed: TraceEvent[] = tracks.flatMap((track) => track.events);
  counters(input, pidOf, timed);
  for (const event of input.instants) {
    const instant = instantOf(event);
    if (!instant) continue;
    const pid = pidOf(instant.kind, instant.id);
    timed.push({
      name: instant.name,
      ph: 'i',
      s: 't',
      ts: ns(event.timeNs),
      pid,
      tid: instantTid(pid),
      args: instant.args,
    });
  }

  // Perfetto orders events by time, keeping the file's order among equal times: sort the same way, so
  // each track's nesting order (and each chain's causal order) survives.
  timed.sort((a, b) => a.ts! - b.ts!);
  for (const [id, points] of chains) {
    if (points.length < 2) continue;
    points.forEach((event, i) => {
      event.bind_id = id;
      if (i > 0) event.flow_in = true;
      if (i < points.length - 1) event.flow_out = true;
    });
  }
  return [...meta, ...timed];
}

/** Queue occupancy per IOMMU queue, PRI credits in use per device, IOTLB / ATC hit rates per bin. */
function counters(
  input: TraceInput,
  pidOf: (kind: 'iommu' | 'device', id: string) => number,
  out: TraceEvent[],
) {
  const series = (pid: number, name: string, key: string, points: [number, number][]) => {
    let lastNs = -1;
    for (const [timeNs, value] of points) {
      const event: TraceEvent = { name, ph: 'C', ts: ns(timeNs), pid, tid: pid, args: { [key]: value } };
      // Two samples at one time: the later one is the value from then on.
      if (timeNs === lastNs) out[out.length - 1] = event;
      else out.push(event);
      lastNs = timeNs;
    }
  };
  const { nowNs } = input;
  // A request is in its hardware queue for its queueWait hop: from the IOMMU writing it to the driver
  // reading it. Page requests go to the page request queue, stalls and unrecoverable records to the other.
  const queued = new Map<string, [number, number][]>();
  for (const record of input.flows) {
    const wait = record.hops.find((hop) => hop.hop === 'queueWait');
    if (!wait || record.mechanism === 'self-faulting') continue;
    const key = `${record.iommu}|${record.mechanism === 'pri' ? 'pri' : 'fault'}`;
    const changes = queued.get(key) ?? [];
    queued.set(key, changes);
    changes.push([wait.startNs, 1], [wait.startNs + wait.ns, -1]);
  }
  for (const iommu of input.iommus) {
    const pid = pidOf('iommu', iommu.id);
    for (const [kind, name] of [
      ['pri', iommu.pageRequestQueue],
      ['fault', iommu.faultQueue],
    ] as const) {
      // Leaving before entering at the same time: a read frees its entry before the next write takes one.
      const changes = (queued.get(`${iommu.id}|${kind}`) ?? []).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      let entries = 0;
      const points: [number, number][] = [[0, 0]];
      for (const [timeNs, change] of changes) points.push([timeNs, (entries += change)]);
      series(pid, name, 'entries', [...points, [nowNs, entries]]);
    }
  }
  for (const [device, changes] of input.credits) {
    let inUse = 0;
    const points: [number, number][] = [[0, 0]];
    for (const [timeNs, delta] of changes)
      points.push([timeNs, (inUse = delta === null ? 0 : inUse + delta)]);
    series(pidOf('device', device), 'PRI', 'credits in use', [...points, [nowNs, inUse]]);
  }
  const binNs = hitRateBinNs(nowNs);
  const rate = (pid: number, name: string, bins: Map<number, [number, number]>) => {
    const points: [number, number][] = [...bins]
      .sort((a, b) => a[0] - b[0])
      .map(([bin, [hits, lookups]]) => [bin * binNs, Math.round((1000 * hits) / lookups) / 10]);
    if (points.length > 0) series(pid, name, 'hit rate %', [...points, [nowNs, points.at(-1)![1]]]);
  };
  const iotlb = new Map<string, Map<number, [number, number]>>();
  const count = (bins: Map<number, [number, number]>, bin: number, hit: boolean) => {
    const cell = bins.get(bin) ?? [0, 0];
    cell[0] += hit ? 1 : 0;
    cell[1]++;
    bins.set(bin, cell);
  };
  const iommuOf = new Map(input.devices.map((d) => [d.id, d.iommu]));
  for (const [device, pages] of input.pages) {
    const iommu = iommuOf.get(device)!;
    const tlb = iotlb.get(iommu) ?? new Map<number, [number, number]>();
    iotlb.set(iommu, tlb);
    const atc = new Map<number, [number, number]>();
    for (const [timeNs, source] of pages) {
      if (source === 'identity') continue;
      const bin = Math.floor(timeNs / binNs);
      count(atc, bin, source === 'atc');
      // The IOTLB is looked up on an ATC miss (or with no ATC): a hit, or a walk.
      if (source !== 'atc') count(tlb, bin, source === 'iotlb');
    }
    if ([...atc.values()].some(([hits]) => hits > 0)) rate(pidOf('device', device), 'ATC', atc);
  }
  for (const [iommu, bins] of iotlb) rate(pidOf('iommu', iommu), 'IOTLB', bins);
}

/** The anatomy record, as the flow slice's args (its hops are the nested slices). */
function flowArgs(r: FlowRecord): Record<string, unknown> {
  return {
    flow: r.flow,
    mechanism: r.mechanism,
    transaction: r.transaction,
    address: r.address,
    access: r.access,
    stage: r.stage,
    fault: r.fault,
    category: r.category,
    handler: r.handler,
    group: r.group,
    code: r.code,
    cause: r.cause,
    outcome: r.outcome,
    latencyNs: r.latencyNs,
    handlerCosts: r.handlerCosts,
    causes: r.causes,
    replaces: r.replaces,
  };
}

/** Where an exceptional event is drawn as an instant, and as what. */
function instantOf(
  e: EmulatorEvent,
): { kind: 'iommu' | 'device'; id: string; name: string; args: Record<string, unknown> } | null {
  switch (e.kind) {
    case 'iommu.queue-overflow':
      return {
        kind: 'iommu',
        id: e.iommu,
        name: `${e.queue} overflow`,
        args: { device: e.device, flow: e.flow },
      };
    case 'iommu.partials-discarded':
      return { kind: 'iommu', id: e.iommu, name: 'partials discarded', args: { flows: e.flows } };
    case 'pri.stop-marker-dropped':
      return {
        kind: 'iommu',
        id: e.iommu,
        name: 'stop marker dropped',
        args: { device: e.device, pasid: e.pasid },
      };
    case 'fault.unrecoverable':
      return {
        kind: 'iommu',
        id: e.iommu,
        name: e.codeName,
        args: { device: e.device, address: e.address, stage: e.stage, fault: e.fault },
      };
    case 'pri.credit-wait':
      return {
        kind: 'device',
        id: e.device,
        name: 'PRI credit wait',
        args: { transaction: e.transaction, waiting: e.waiting, outstanding: e.outstanding },
      };
    case 'pri.unexpected-response':
      return {
        kind: 'device',
        id: e.device,
        name: 'unexpected PRG response',
        args: { prgIndex: e.prgIndex },
      };
    case 'fault.partials-dropped':
      return {
        kind: 'device',
        id: e.device,
        name: `partials dropped (${e.cause})`,
        args: { flows: e.flows },
      };
    case 'device.reset':
      return { kind: 'device', id: e.device, name: 'function reset', args: { aborted: e.aborted } };
    case 'dma.aborted':
      return {
        kind: 'device',
        id: e.device,
        name: 'DMA aborted',
        args: { transaction: e.transaction, cause: e.cause },
      };
    default:
      return null;
  }
}
