/**
 * Counters of ended fault flows per metric scope: how many ended, by mechanism and outcome
 * ("pri:resumed", "stall:failed"). The key strings are built once per pair, so counting allocates nothing.
 */
import type { FaultFlow } from './fault-flow';

/** Flows ended, by mechanism and outcome ("pri:resumed"), and their end-to-end latency. */
export class FlowCounters {
  readonly byOutcome = new Map<string, number>();
  private static readonly keys = new Map<string, Map<string, string>>();

  count(flow: FaultFlow): void {
    let byMechanism = FlowCounters.keys.get(flow.mechanism);
    if (byMechanism === undefined) FlowCounters.keys.set(flow.mechanism, (byMechanism = new Map()));
    let key = byMechanism.get(flow.outcome!);
    if (key === undefined) byMechanism.set(flow.outcome!, (key = `${flow.mechanism}:${flow.outcome}`));
    this.byOutcome.set(key, (this.byOutcome.get(key) ?? 0) + 1);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.byOutcome);
  }
}
