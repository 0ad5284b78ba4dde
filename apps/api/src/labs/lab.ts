/**
 * A lab: one live emulated system with an id, its event history, its live clock and its stream. It
 * remembers what it was built from, so it can be reset to that.
 */
import {
  PRESETS,
  System,
  type SystemConfig,
  type SystemOptions,
  type WorkloadSpec,
  buildSystem,
} from '@iommu-lab/emulator';
import type { LabSummaryView } from '@iommu-lab/wire';
import { StreamHub, type StreamLimits } from '../stream/stream-hub';
import { EventLog } from './event-log';
import { LiveClock } from './live-clock';

export type LabSource =
  | { kind: 'empty'; options?: SystemOptions }
  | { kind: 'config'; config: SystemConfig }
  | { kind: 'preset'; preset: string };

export interface LabLimits {
  historyEvents: number;
  stream: StreamLimits;
}

export class Lab {
  system: System;
  readonly history: EventLog;
  readonly hub: StreamHub;
  readonly clock: LiveClock;
  readonly createdAt = new Date();
  private unsubscribe: () => void = () => {};

  constructor(
    readonly id: string,
    readonly name: string,
    readonly source: LabSource,
    limits: LabLimits,
  ) {
    this.history = new EventLog(limits.historyEvents);
    this.hub = new StreamHub(limits.stream);
    this.clock = new LiveClock(() => this.system);
    this.system = this.build();
  }

  /** The workload that came with the lab's preset, if any. */
  presetWorkload(): WorkloadSpec | undefined {
    return this.source.kind === 'preset' ? presetOf(this.source.preset).workload : undefined;
  }

  /** Back to what it was built from; stream clients are told. */
  reset(): void {
    this.clock.pause();
    this.history.clear();
    this.system = this.build();
    this.hub.broadcast({ type: 'reset', lab: this.id });
  }

  close(): void {
    this.clock.pause();
    this.unsubscribe();
    this.hub.close('lab deleted');
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
      },
      counts: {
        iommus: picture.iommus.length,
        devices: picture.devices.length,
        domains: picture.domains.length,
        processes: picture.processes.length,
      },
    };
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
      this.hub.publish(event);
    });
    return system;
  }
}

function presetOf(id: string) {
  return PRESETS.find((preset) => preset.id === id)!;
}
