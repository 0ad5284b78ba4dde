/**
 * A run's trace is one Perfetto draws correctly: read back from its JSON as Perfetto's importer reads it
 * (events ordered by time, the file's order among equal times), no slice partially overlaps another on
 * its track, every async begin has its end, every flow its start and end, every page request is linked
 * by flow arrows to its response and to the retry of its DMA, and the trace ends when the run did.
 * The emulator, run again beside the trace, says what the trace should show.
 */
import { type EmulatorEvent, PRESETS } from '@iommu-lab/emulator';
import type { ExperimentConfig } from '@iommu-lab/wire';
import { describe, expect, it } from 'vitest';
import { experimentSystem } from './experiment-system';
import { traceRun } from './trace';

interface Parsed {
  name: string;
  ph: string;
  ts?: number;
  dur?: number;
  pid: number;
  tid: number;
  cat?: string;
  id?: string | number;
  id2?: { local?: string; global?: string };
  bind_id?: number | string;
  flow_in?: boolean;
  flow_out?: boolean;
  args?: Record<string, unknown>;
}

const COUNT = 300;

function configOf(presetId: string): ExperimentConfig {
  const preset = PRESETS.find((p) => p.id === presetId)!;
  const workload = structuredClone(preset.workload);
  for (const stream of workload.streams) stream.count = Math.min(stream.count ?? COUNT, COUNT);
  return { version: 1, system: preset.config, workload, seed: 1 } as ExperimentConfig;
}

/** The run itself, as the run worker does it: its events and its simulated span. */
function runOf(config: ExperimentConfig) {
  const system = experimentSystem(config, config.seed);
  const events: EmulatorEvent[] = [];
  system.onAny((event) => events.push(event));
  const workload = system.runWorkload(config.workload);
  while (!workload.finished && system.runUntilIdle(10_000) > 0);
  system.runUntilIdle();
  const queueMax = new Map(
    [...system.iommus.values()].flatMap((iommu) =>
      [iommu.pageRequestQueue, iommu.faultQueue].map((queue) => [queue.name, queue.occupancy.max]),
    ),
  );
  return { events, nowNs: system.nowNs, queueMax };
}

/** Timed events in the order Perfetto's importer handles them. */
function inPerfettoOrder(events: Parsed[]): Parsed[] {
  return events.filter((e) => e.ph !== 'M').sort((a, b) => a.ts! - b.ts!);
}

const asyncTrack = (e: Parsed) =>
  e.id2?.local !== undefined
    ? `${e.pid}|${e.cat}|local ${e.id2.local}`
    : `${e.cat}|global ${e.id ?? e.id2?.global}`;

/** Slices that partially overlap on a track: X per pid/tid, b/e per async track (which must nest). */
function nestingProblems(events: Parsed[]): string[] {
  const problems: string[] = [];
  const complete = new Map<string, number[]>();
  const open = new Map<string, Parsed[]>();
  for (const e of inPerfettoOrder(events)) {
    if (e.ph === 'X') {
      const ends = complete.get(`${e.pid}/${e.tid}`) ?? [];
      complete.set(`${e.pid}/${e.tid}`, ends);
      while (ends.length > 0 && ends.at(-1)! <= e.ts!) ends.pop();
      if (ends.length > 0 && ends.at(-1)! < e.ts! + e.dur!)
        problems.push(`X ${e.name} at ${e.ts} overlaps its track's slice ending at ${ends.at(-1)}`);
      ends.push(e.ts! + e.dur!);
    } else if (e.ph === 'b') {
      const stack = open.get(asyncTrack(e)) ?? [];
      open.set(asyncTrack(e), stack);
      stack.push(e);
    } else if (e.ph === 'e') {
      const top = open.get(asyncTrack(e))?.pop();
      if (!top) problems.push(`e ${e.name} at ${e.ts} on ${asyncTrack(e)} without its b`);
      else if (top.name !== e.name)
        problems.push(`e ${e.name} at ${e.ts} on ${asyncTrack(e)} ends ${top.name} (begun at ${top.ts})`);
    }
  }
  for (const [track, stack] of open)
    for (const b of stack) problems.push(`b ${b.name} at ${b.ts} on ${track} never ends`);
  return problems;
}

/**
 * Flows as Perfetto binds them: each bind_id's events in order, the first flow_out only, the last flow_in
 * only, the ones between both (v1 `s` / `f` flows must pair too); an arrow joins each to the next.
 */
function flowsOf(events: Parsed[]) {
  const problems: string[] = [];
  const byId = new Map<string, Parsed[]>();
  const v1 = new Map<string, number>();
  for (const e of inPerfettoOrder(events)) {
    if (e.ph === 's' || e.ph === 'f')
      v1.set(`${e.cat}|${e.id}`, (v1.get(`${e.cat}|${e.id}`) ?? 0) + (e.ph === 's' ? 1 : -1));
    if (e.bind_id === undefined) continue;
    if (e.ph !== 'b' && e.ph !== 'n' && e.ph !== 'X')
      problems.push(`bind_id ${e.bind_id} on a ${e.ph} event`);
    const chain = byId.get(String(e.bind_id)) ?? [];
    byId.set(String(e.bind_id), chain);
    chain.push(e);
  }
  for (const [id, balance] of v1) if (balance !== 0) problems.push(`flow ${id}: s and f do not pair`);
  const next = new Map<Parsed, Parsed[]>();
  for (const [id, chain] of byId) {
    if (chain.length < 2) problems.push(`flow ${id} has no end`);
    chain.forEach((e, i) => {
      const expected = { in: i > 0, out: i < chain.length - 1 };
      if (Boolean(e.flow_in) !== expected.in || Boolean(e.flow_out) !== expected.out)
        problems.push(
          `flow ${id}: event ${i} of ${chain.length} (${e.name}) is not a ${expected.in ? (expected.out ? 'step' : 'end') : 'start'}`,
        );
      if (i > 0) next.set(chain[i - 1]!, [...(next.get(chain[i - 1]!) ?? []), e]);
    });
  }
  const reaches = (from: Parsed, target: (e: Parsed) => boolean) => {
    const seen = new Set<Parsed>();
    const todo = [from];
    while (todo.length > 0) {
      const e = todo.pop()!;
      if (target(e)) return true;
      if (seen.has(e)) continue;
      seen.add(e);
      todo.push(...(next.get(e) ?? []));
    }
    return false;
  };
  return { problems, chains: byId.size, reaches };
}

const PRESETS_TRACED = [
  'nested-guest-sva',
  'sva-pri-vtd',
  'smmu-stall-sva',
  'passthrough-map',
  'sva-mainline',
  'sva-self-faulting',
];

describe('a run’s trace, as Perfetto reads it', () => {
  it.each(PRESETS_TRACED)(
    '%s: slices nest, pairs balance, requests link to responses and retries, the span is the run’s',
    (presetId) => {
      const config = configOf(presetId);
      const trace = JSON.parse(JSON.stringify(traceRun('run1', config, config.seed))) as {
        traceEvents: Parsed[];
        metadata: { truncated: boolean };
      };
      const events = trace.traceEvents;
      const { events: emitted, nowNs, queueMax } = runOf(config);
      expect(trace.metadata.truncated).toBe(false);

      expect(nestingProblems(events)).toEqual([]);
      const flows = flowsOf(events);
      expect(flows.problems).toEqual([]);

      // Every page request (and stall) that was answered is linked to the slice of its answer.
      const roots = new Map(
        events.filter((e) => e.ph === 'b' && e.cat === 'fault').map((e) => [e.args!.flow as number, e]),
      );
      const requests = emitted.flatMap((e) =>
        (e.kind === 'pri.page-request' || e.kind === 'stall.stalled') && e.flow !== null ? [e.flow] : [],
      );
      const answered = new Set(
        emitted.flatMap((e) =>
          e.kind === 'fault.response'
            ? e.flows
            : e.kind === 'stall.resume' && e.flow !== null
              ? [e.flow]
              : [],
        ),
      );
      const linked = requests.filter((flow) => answered.has(flow));
      for (const flow of linked) {
        const root = roots.get(flow);
        expect(root, `flow ${flow} has a slice`).toBeDefined();
        const isResponse = (e: Parsed) =>
          e.name.startsWith('response ') && (e.args?.flows as number[] | undefined)?.includes(flow) === true;
        expect(flows.reaches(root!, isResponse), `page request flow ${flow} reaches its response`).toBe(true);
      }
      // …and every retry of a transaction to the flows it waited on.
      for (const retry of emitted.filter((e) => e.kind === 'dma.retried')) {
        const isRetry = (e: Parsed) =>
          e.ph === 'n' &&
          e.name === 'retry' &&
          e.id2?.local === `transaction ${retry.transaction}` &&
          e.ts === retry.timeNs / 1000;
        expect(
          retry.flows.some((flow) => flows.reaches(roots.get(flow)!, isRetry)),
          `retry of transaction ${retry.transaction} at ${retry.timeNs} ns is linked from its flows`,
        ).toBe(true);
      }

      // Counters: each IOMMU queue's occupancy, PRI credits per PRI device, IOTLB hit rate.
      const counters = new Set(
        events.filter((e) => e.ph === 'C').map((e) => `${e.name} ${Object.keys(e.args!)[0]}`),
      );
      const queues =
        presetId === 'smmu-stall-sva'
          ? ['PRIQ entries', 'EVTQ entries']
          : ['PRQ entries', 'fault-recording entries'];
      expect([...counters]).toEqual(expect.arrayContaining([...queues, 'IOTLB hit rate %']));
      // The queue counters climb as high as the queues did.
      for (const [queue, max] of queueMax) {
        const samples = events
          .filter((e) => e.ph === 'C' && e.name === queue)
          .map((e) => e.args!.entries as number);
        expect(Math.max(...samples), `${queue} entries`).toBe(max);
      }
      if (requests.length > 0 && emitted.some((e) => e.kind === 'pri.page-request'))
        expect(counters).toContain('PRI credits in use');

      // The trace ends when the run did, in simulated µs.
      expect(events.reduce((last, e) => Math.max(last, e.ts ?? 0), 0)).toBe(nowNs / 1000);
    },
  );

  it('names processes by IOMMU and device, async tracks by mechanism, PASID and the driver’s fault queue', () => {
    const config = configOf('nested-guest-sva');
    const events = (
      JSON.parse(JSON.stringify(traceRun('run1', config, config.seed))) as { traceEvents: Parsed[] }
    ).traceEvents;
    const processes = events.filter((e) => e.name === 'process_name').map((e) => e.args!.name);
    expect(processes).toEqual(['iommu vtd0', 'device vf0']);
    const trackNames = new Set(events.filter((e) => e.ph === 'b' && e.id2).map((e) => `${e.cat}: ${e.name}`));
    expect([...trackNames]).toEqual(
      expect.arrayContaining([
        'fault: page requests · RID',
        'dma: DMA · RID',
        'group: guest fault queue',
        'group: fault queue',
      ]),
    );
  });
});
