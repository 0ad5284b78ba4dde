/**
 * The shared services every model object reaches: the clock and scheduler, the event bus, the seeded
 * random source, physical memory, the latency model, metrics and the allocation counters of fail-nth.
 * One per system.
 */
import type { FailNth } from '../injection/fail-nth';
import type { LatencyModel } from '../latency/latency-model';
import type { PhysicalMemory } from '../memory/physical-memory';
import type { Metrics } from '../metrics/metrics';
import type { EventBus } from './event-bus';
import type { Random } from './random';
import type { Scheduler } from './scheduler';

export interface SimEnvironment {
  scheduler: Scheduler;
  bus: EventBus;
  random: Random;
  memory: PhysicalMemory;
  latency: LatencyModel;
  metrics: Metrics;
  failNth: FailNth;
}
