/**
 * A lab: one live emulated system with an id, its event history, its live clock and its stream. It
 * remembers what it was built from, so it can be reset to that.
 */
import {
  PRESETS,
  System,
  type SystemConfig,
  type SystemOptions,
  type WorkloadRun,
  type WorkloadSpec,
  buildSystem,
  describeLivelock,
} from '@iommu-lab/emulator';
import type { LabSummaryView } from '@iommu-lab/wire';
import { ServiceError } from '../plugins/errors';
import { StreamHub, type StreamLimits } from '../stream/stream-hub';
import { EventLog } from './event-log';
import { FlowLog } from './flow-log';
import { LiveClock } from './live-clock';

export type LabSource =
  | { kind: 'empty'; options?: SystemOptions }
  | { kind: 'config'; config: SystemConfig }
  | { kind: 'preset'; preset: string };

/** A workload started in a lab, kept so its progress can be read while the live clock carries it out. */
export interface LabWorkload {
  readonly id: string;
  readonly run: WorkloadRun;
  /** Events of the lab by kind from its start until it ended (or until now). */
  readonly eventsByKind: Record<string, number>;
  /** Resolves when it ends, or when the lab is reset or deleted first (then it never will). */
  readonly settled: Promise<void>;
}

/** Workloads a lab remembers; past this the oldest are forgotten. */
const KEPT_WORKLOADS = 64;

export interface LabLimits {
  historyEvents: number;
  /** Ended fault flows kept (default historyEvents / 8: a PRI fault's life is about 8 events, so both forget a flow at about the same time). */
  flows?: number;
  stream: StreamLimits;
}

export class Lab {
  system: System;
  readonly history: EventLog;
  readonly flows: FlowLog;
  readonly hub: StreamHub;
  readonly clock: LiveClock;
  readonly createdAt = new Date();
  private unsubscribe: () => void = () => {};
  private readonly workloads = new Map<string, LabWorkload>();
  /** How to end the bookkeeping of each workload still running (when forgotten, or its system goes away). */
  private readonly unsettled = new Map<string, () => void>();
  private workloadCount = 0;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly source: LabSource,
    limits: LabLimits,
  ) {
    this.history = new EventLog(limits.historyEvents, limits.stream.batchEvents);
    this.flows = new FlowLog(id, limits.flows ?? Math.max(1, Math.ceil(limits.historyEvents / 8)));
    this.hub = new StreamHub(this.history, limits.stream);
    this.clock = new LiveClock(() => this.system);
    this.system = this.build();
  }

  /** The workload that came with the lab's preset, if any. */
  presetWorkload(): WorkloadSpec | undefined {
    return this.source.kind === 'preset' ? presetOf(this.source.preset).workload : undefined;
  }

  /** Starts a workload on the lab's system; the clock (or the caller, on a paused lab) carries it out. */
  startWorkload(spec: WorkloadSpec): LabWorkload {
    const eventsByKind: Record<string, number> = {};
    const stopCounting = this.system.onAny((event) => {
      eventsByKind[event.kind] = (eventsByKind[event.kind] ?? 0) + 1;
    });
    const id = `wl${++this.workloadCount}`;
    let settle = () => {};
    const settled = new Promise<void>((resolve) => {
      settle = () => {
        stopCounting();
        this.unsettled.delete(id);
        resolve();
      };
    });
    let run: WorkloadRun;
    try {
      run = this.system.runWorkload(spec, (progress) => {
        if (progress.ended === progress.total) settle();
      });
    } catch (error) {
      stopCounting();
      throw error;
    }
    this.unsettled.set(id, settle);
    const workload = { id, run, eventsByKind, settled };
    this.workloads.set(id, workload);
    for (const old of this.workloads.keys()) {
      if (this.workloads.size <= KEPT_WORKLOADS) break;
      this.workloads.delete(old);
      this.unsettled.get(old)?.();
    }
    return workload;
  }

  workload(id: string): LabWorkload {
    const workload = this.workloads.get(id);
    if (!workload)
      throw new ServiceError(
        'not-found',
        'ENOENT',
        `lab ${this.id} has no workload "${id}".`,
        'no-such-workload',
      );
    return workload;
  }

  /** Back to what it was built from; stream clients are told. */
  reset(): void {
    this.clock.pause();
    this.forgetWorkloads();
    this.history.clear();
    this.flows.clear();
    this.system = this.build();
    this.hub.broadcast({ type: 'reset', lab: this.id });
  }

  /** Deleted, or the server stopping: stream clients are told which, so a deletion is never a shutdown. */
  close(cause: 'deleted' | 'server-stopping'): void {
    this.clock.pause();
    this.forgetWorkloads();
    this.unsubscribe();
    if (cause === 'deleted') this.hub.broadcast({ type: 'lab.deleted', lab: this.id });
    this.hub.close(cause === 'deleted' ? 'lab deleted' : 'server stopping');
  }

  private forgetWorkloads(): void {
    for (const settle of [...this.unsettled.values()]) settle();
    this.workloads.clear();
  }

  summary(): LabSummaryView {
    const picture = this.system.describe();
    return {
      id: this.id,
      name: this.name,
      createdAt: this.createdAt.toISOString(),
      source:
        this.source.kind === 'preset'
          ? { kind: 'preset', preset: this.source.preset }
          : { kind: this.source.kind },
      clock: {
        state: this.clock.state,
        speed: this.clock.speed,
        timeNs: this.system.nowNs,
        pendingEvents: this.system.pendingEvents,
        stopped: this.stopped(),
      },
      counts: {
        iommus: picture.iommus.length,
        devices: picture.devices.length,
        domains: picture.domains.length,
        processes: picture.processes.length,
      },
    };
  }

  /** Why the system stopped by itself (a livelock: the emulator keeps its figures), or null. */
  private stopped(): LabSummaryView['clock']['stopped'] {
    const { livelock } = this.system;
    if (livelock === null) return null;
    const { iommu, queue, atNs, ...figures } = livelock;
    return { reason: 'livelock', message: describeLivelock(iommu, queue, atNs, figures), livelock };
  }

  private build(): System {
    this.unsubscribe();
    const { source } = this;
    const system =
      source.kind === 'config'
        ? buildSystem(source.config)
        : source.kind === 'preset'
          ? buildSystem(presetOf(source.preset).config)
          : new System(source.options ?? {});
    this.unsubscribe = system.onAny((event) => {
      this.history.push(event);
      if (event.kind === 'flow.ended') this.flows.push(event);
      // Nothing runs after a livelock: its workloads will never end, so whoever waits for them stops now.
      else if (event.kind === 'fault.livelock') for (const settle of [...this.unsettled.values()]) settle();
      this.hub.publish(event);
    });
    return system;
  }
}

function presetOf(id: string) {
  return PRESETS.find((preset) => preset.id === id)!;
}
