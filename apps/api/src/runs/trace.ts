/**
 * A run's event trace as Chrome trace-event JSON, which Perfetto (ui.perfetto.dev) and chrome://tracing
 * open: one process per device (tracks: DMA, faults) and one per IOMMU (tracks: fault queue, handler,
 * unrecoverable), DMA transactions and faults as slices, the rest as instants. Times are simulated µs.
 * Runs are deterministic, so the trace is made by running the experiment again with the run's seed.
 */
import { type EmulatorEvent, type System, buildSystem } from '@iommu-lab/emulator';
import type { ExperimentConfig } from '@iommu-lab/wire';

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
  private readonly requests = new Map<number, { timeNs: number; address: string; device: string }>();
  private readonly groups = new Map<number, number[]>();
  private readonly stalls = new Map<string, { timeNs: number; address: string; device: string }>();

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
      case 'pri.page-request':
        this.requests.set(e.request, { timeNs: e.timeNs, address: e.address, device: e.device });
        break;
      case 'fault.group': {
        this.groups.set(e.group, e.requests);
        const pid = this.pid('iommu', e.iommu);
        this.instant(pid, TRACKS.queue, e.timeNs, `group ${e.category ?? 'no category'} stage ${e.stage}`, {
          device: e.device,
          pasid: e.pasid,
          addresses: e.addresses,
          handler: e.handler,
        });
        break;
      }
      case 'fault.response': {
        const requests = (e.group !== null ? this.groups.get(e.group) : undefined) ?? [e.request];
        if (e.group !== null) this.groups.delete(e.group);
        for (const request of requests) {
          const pending = this.requests.get(request);
          if (!pending) continue;
          this.requests.delete(request);
          this.slice(
            this.pid('device', pending.device),
            TRACKS.faults,
            pending.timeNs,
            e.timeNs,
            `page request → ${e.code}`,
            {
              address: pending.address,
              cause: e.cause,
            },
          );
        }
        break;
      }
      case 'stall.stalled':
        this.stalls.set(`${e.iommu}:${e.stag}`, { timeNs: e.timeNs, address: e.address, device: e.device });
        break;
      case 'stall.resume': {
        const stall = this.stalls.get(`${e.iommu}:${e.stag}`);
        if (!stall) break;
        this.stalls.delete(`${e.iommu}:${e.stag}`);
        this.slice(
          this.pid('device', stall.device),
          TRACKS.faults,
          stall.timeNs,
          e.timeNs,
          `stall → ${e.action}`,
          {
            address: stall.address,
          },
        );
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
  'pri.page-request',
  'fault.group',
  'fault.response',
  'stall.stalled',
  'stall.resume',
  'fault.unrecoverable',
  'handler.mapped',
  'handler.evicted',
  'iommu.queue-overflow',
] as const;

/** Runs the experiment with `seed` until its workload ends or `maxEvents` trace events were made. */
export function traceRun(run: string, config: ExperimentConfig, seed: number, maxEvents = 500_000): Trace {
  const system: System = buildSystem({ ...config.system, options: { ...config.system.options, seed } });
  const builder = new TraceBuilder();
  for (const kind of KINDS) system.on(kind, (event) => builder.handle(event as EmulatorEvent));
  const answer = config.policy?.externalResponse;
  if (answer)
    system.on('fault.awaiting-client', (e) =>
      system.schedule(system.nowNs, () => system.respondToFault(e.cookie, answer)),
    );
  const workload = system.runWorkload(config.workload);
  while (!workload.finished && builder.events.length < maxEvents && system.runUntilIdle(10_000) > 0);
  return {
    traceEvents: builder.events,
    displayTimeUnit: 'ns',
    metadata: { run, seed, events: builder.events.length, truncated: !workload.finished },
  };
}
