/**
 * A run's trace as Chrome trace-event JSON that Perfetto (ui.perfetto.dev) draws as it is: concurrent
 * work as async slices that nest, causes as flow arrows, queues and credits as counters, in simulated µs
 * (trace/trace-builder.ts says what goes where). Runs are deterministic, so the trace is made by running
 * the experiment again with the run's seed, as far as the run went: its workload, then until idle.
 *
 * JSON only: Perfetto's native protobuf would need its .proto files compiled into the API (no maintained
 * npm package ships TrackEvent encoders), and the JSON importer reads everything drawn here.
 */
import type { EmulatorEvent, EventOf, System } from '@iommu-lab/emulator';
import type { ExperimentConfig } from '@iommu-lab/wire';
import { experimentSystem } from './experiment-system';
import { type TraceInput, buildTrace, hitRateBinNs } from './trace/trace-builder';
import type { TraceEvent } from './trace/trace-events';

export type { TraceEvent } from './trace/trace-events';

export interface Trace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ns';
  metadata: {
    run: string;
    seed: number;
    events: number;
    truncated: boolean;
    /** The simulated time the trace covers (its last timestamp, in ns). */
    spanNs: number;
    /** Width of the hit-rate counters' bins. */
    hitRateBinNs: number;
  };
}

const INSTANT_KINDS = [
  'iommu.queue-overflow',
  'iommu.partials-discarded',
  'pri.stop-marker-dropped',
  'fault.unrecoverable',
  'pri.credit-wait',
  'pri.unexpected-response',
  'fault.partials-dropped',
  'device.reset',
  'dma.aborted',
] as const;

/** Collects what the trace is drawn from, and about how many trace events that will make. */
class TraceRecorder {
  readonly flows: EventOf<'flow.ended'>[] = [];
  readonly dmaEnds: (EventOf<'dma.completed'> | EventOf<'dma.faulted'>)[] = [];
  readonly retries: EventOf<'dma.retried'>[] = [];
  readonly credits = new Map<string, [number, number | null][]>();
  readonly pages = new Map<string, [number, string][]>();
  readonly instants: EmulatorEvent[] = [];
  estimate = 0;

  constructor(private readonly system: System) {
    system.on('flow.ended', (e) => {
      this.flows.push(e);
      this.estimate += 4 + 2 * e.hops.length;
    });
    const dmaEnd = (e: EventOf<'dma.completed'> | EventOf<'dma.faulted'>) => {
      this.dmaEnds.push(e);
      this.estimate += 4;
    };
    system.on('dma.completed', dmaEnd);
    system.on('dma.faulted', dmaEnd);
    system.on('dma.retried', (e) => {
      this.retries.push(e);
      this.estimate += 3;
    });
    // PRI credits in use at the device: requests sent, less those a PRG response answered.
    system.on('pri.page-request', (e) => this.credit(e.device, e.timeNs, 1));
    system.on('pri.response', (e) => this.credit(e.device, e.timeNs, -e.requests));
    system.on('device.reset', (e) => this.credit(e.device, e.timeNs, null));
    system.on('dma.page', (e) => {
      const pages = this.pages.get(e.device);
      if (pages) pages.push([e.timeNs, e.source]);
      else this.pages.set(e.device, [[e.timeNs, e.source]]);
    });
    for (const kind of INSTANT_KINDS)
      system.on(kind, (e) => {
        this.instants.push(e as EmulatorEvent);
        this.estimate++;
      });
  }

  private credit(device: string, timeNs: number, change: number | null): void {
    if (!this.system.devices.get(device)?.caps.pri) return;
    const changes = this.credits.get(device);
    if (changes) changes.push([timeNs, change]);
    else this.credits.set(device, [[timeNs, change]]);
    this.estimate++;
  }

  input(): TraceInput {
    const { system } = this;
    return {
      iommus: [...system.iommus.values()].map((iommu) => ({
        id: iommu.id,
        pageRequestQueue: iommu.pageRequestQueue.name,
        faultQueue: iommu.faultQueue.name,
      })),
      devices: [...system.devices.values()].map((device) => ({ id: device.id, iommu: device.iommu.id })),
      flows: this.flows,
      dmaEnds: this.dmaEnds,
      retries: this.retries,
      credits: this.credits,
      pages: this.pages,
      instants: this.instants,
      nowNs: system.nowNs,
    };
  }
}

/**
 * Runs the experiment with `seed` as its run did (the workload, then until idle), or until about
 * `maxEvents` trace events were made; only what ended by then is drawn.
 */
export function traceRun(run: string, config: ExperimentConfig, seed: number, maxEvents = 500_000): Trace {
  const system = experimentSystem(config, seed);
  const recorder = new TraceRecorder(system);
  const workload = system.runWorkload(config.workload);
  while (!workload.finished && recorder.estimate < maxEvents && system.runUntilIdle(10_000) > 0);
  if (workload.finished) system.runUntilIdle();
  const traceEvents = buildTrace(recorder.input());
  return {
    traceEvents,
    displayTimeUnit: 'ns',
    metadata: {
      run,
      seed,
      events: traceEvents.length,
      truncated: !workload.finished,
      spanNs: system.nowNs,
      hitRateBinNs: hitRateBinNs(system.nowNs),
    },
  };
}
