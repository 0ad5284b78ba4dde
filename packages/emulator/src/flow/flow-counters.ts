/**
 * Counters of ended fault flows per metric scope: how many ended, by mechanism and outcome
 * ("pri:resumed", "stall:failed"). A fixed table of numbers, so counting allocates nothing and does no
 * lookup by string.
 */
import {
  type FaultFlow,
  FLOW_MECHANISMS,
  FLOW_OUTCOMES,
  type FlowMechanism,
  type FlowOutcome,
} from './fault-flow';

const MECHANISMS = FLOW_MECHANISMS;
const OUTCOMES = FLOW_OUTCOMES;
const MECHANISM_INDEX: Record<FlowMechanism, number> = {
  pri: 0,
  stall: 1,
  'self-faulting': 2,
  unrecoverable: 3,
};
const OUTCOME_INDEX = Object.fromEntries(OUTCOMES.map((outcome, i) => [outcome, i])) as Record<
  FlowOutcome,
  number
>;

export class FlowCounters {
  private readonly counts = new Float64Array(MECHANISMS.length * OUTCOMES.length);

  count(flow: FaultFlow): void {
    this.counts[MECHANISM_INDEX[flow.mechanism] * OUTCOMES.length + OUTCOME_INDEX[flow.outcome!]]!++;
  }

  /** Non-zero counts as "mechanism:outcome" → flows. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    MECHANISMS.forEach((mechanism, m) =>
      OUTCOMES.forEach((outcome, o) => {
        const n = this.counts[m * OUTCOMES.length + o]!;
        if (n > 0) out[`${mechanism}:${outcome}`] = n;
      }),
    );
    return out;
  }
}
