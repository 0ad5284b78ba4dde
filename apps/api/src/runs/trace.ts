/**
 * A run's event trace as Chrome trace-event JSON, which Perfetto (ui.perfetto.dev) and chrome://tracing
 * open: one process per device (tracks: DMA, faults) and one per IOMMU (tracks: fault queue, handler,
 * unrecoverable), DMA transactions and faults as slices, the rest as instants. Times are simulated µs.
 * Runs are deterministic, so the trace is made by running the experiment again with the run's seed.
 */
import type { EmulatorEvent } from '@iommu-lab/emulator';
import type { ExperimentConfig } from '@iommu-lab/wire';
import { experimentSystem } from './experiment-system';
import { type AnsweredFault, onAnsweredFaults } from './fault-answers';

interface TraceEvent {
  name: string;
  ph: 'X' | 'i' | 'M';
  ts?: number;
  dur?: number;
  pid: number;
  tid: number;
  s?: 't' | 'p';
  cat?: string;
  args?: Record<string, unknown>;
}

const TRACKS = { dma: 1, faults: 2, queue: 1, handler: 2, unrecoverable: 3 } as const;

export interface Trace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ns';
  metadata: { run: string; seed: number; events: number; truncated: boolean };
}

class TraceBuilder {
  readonly events: TraceEvent[] = [];
  private readonly pids = new Map<string, number>();

  pid(kind: 'device' | 'iommu', id: string): number {
    const key = `${kind}:${id}`;
    const known = this.pids.get(key);
    if (known !== undefined) return known;
    const pid = this.pids.size + 1;
    this.pids.set(key, pid);
    this.events.push({ name: 'process_name', ph: 'M', pid, tid: 0, args: { name: `${kind} ${id}` } });
    const tracks = kind === 'device' ? ['DMA', 'faults'] : ['fault queue', 'handler', 'unrecoverable'];
    tracks.forEach((name, i) =>
      this.events.push({ name: 'thread_name', ph: 'M', pid, tid: i + 1, args: { name } }),
    );
    return pid;
  }

  instant(pid: number, tid: number, timeNs: number, name: string, args: Record<string, unknown>): void {
    this.events.push({ name, ph: 'i', s: 't', ts: timeNs / 1000, pid, tid, args });
  }

  slice(
    pid: number,
    tid: number,
    startNs: number,
    endNs: number,
    name: string,
    args: Record<string, unknown>,
  ) {
    this.events.push({
      name,
      ph: 'X',
      ts: startNs / 1000,
      dur: Math.max(0, endNs - startNs) / 1000,
      pid,
      tid,
      args,
    });
  }

  /** A fault and its answer: a slice on the device's faults track. */
  answered({ fault, kind, code, answeredNs }: AnsweredFault): void {
    const name = `${kind === 'stall' ? 'stall' : 'page request'} → ${code}`;
    this.slice(this.pid('device', fault.device), TRACKS.faults, fault.timeNs, answeredNs, name, {
      address: fault.address,
      pasid: fault.pasid,
    });
  }

  handle(e: EmulatorEvent): void {
    switch (e.kind) {
      case 'dma.completed':
      case 'dma.faulted': {
        const pid = this.pid('device', e.device);
        const name = `${e.access} ${e.length} B${e.kind === 'dma.faulted' ? ' (faulted)' : ''}`;
        this.slice(pid, TRACKS.dma, e.timeNs - e.latencyNs, e.timeNs, name, {
          transaction: e.transaction,
          address: e.address,
          pasid: e.pasid,
          recoveries: e.recoveries,
        });
        break;
      }
      case 'fault.group': {
        const pid = this.pid('iommu', e.iommu);
        this.instant(pid, TRACKS.queue, e.timeNs, `group ${e.category ?? 'no category'} stage ${e.stage}`, {
          device: e.device,
          pasid: e.pasid,
          addresses: e.addresses,
          handler: e.handler,
        });
        break;
      }
      case 'fault.unrecoverable':
        this.instant(this.pid('iommu', e.iommu), TRACKS.unrecoverable, e.timeNs, e.codeName, {
          device: e.device,
          address: e.address,
          stage: e.stage,
          fault: e.fault,
        });
        break;
      case 'handler.mapped':
      case 'handler.evicted':
        this.instant(this.pid('iommu', 'handlers'), TRACKS.handler, e.timeNs, e.kind, { ...e });
        break;
      case 'iommu.queue-overflow':
        this.instant(this.pid('iommu', e.iommu), TRACKS.queue, e.timeNs, `${e.queue} overflow`, {
          device: e.device,
        });
        break;
      default:
    }
  }
}

const KINDS = [
  'dma.completed',
  'dma.faulted',
  'fault.group',
  'fault.unrecoverable',
  'handler.mapped',
  'handler.evicted',
  'iommu.queue-overflow',
] as const;

/** Runs the experiment with `seed` until its workload ends or `maxEvents` trace events were made. */
export function traceRun(run: string, config: ExperimentConfig, seed: number, maxEvents = 500_000): Trace {
  const system = experimentSystem(config, seed);
  const builder = new TraceBuilder();
  for (const kind of KINDS) system.on(kind, (event) => builder.handle(event as EmulatorEvent));
  onAnsweredFaults(system, (answer) => builder.answered(answer));
  const workload = system.runWorkload(config.workload);
  while (!workload.finished && builder.events.length < maxEvents && system.runUntilIdle(10_000) > 0);
  return {
    traceEvents: builder.events,
    displayTimeUnit: 'ns',
    metadata: { run, seed, events: builder.events.length, truncated: !workload.finished },
  };
}
