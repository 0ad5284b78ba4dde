/**
 * The timeline colours a flow's hops by phase: the 15 hops of the emulator's fault flow
 * (packages/emulator/src/flow/fault-flow.ts, HOPS, in that order) grouped into six phases a kernel developer reads.
 */
export const PHASES = ['queue wait', 'driver', 'handler', 'mm fault', 'response', 'retry'] as const;
export type Phase = (typeof PHASES)[number];

/** Hop name → phase. Waiting for credit, the PCIe trip and the hardware queue are all time before the driver sees it. */
export const HOP_PHASE: Readonly<Record<string, Phase>> = {
  creditWait: 'queue wait',
  toIommu: 'queue wait',
  queueWait: 'queue wait',
  groupWait: 'driver',
  dispatch: 'driver',
  deviceDriver: 'driver',
  handler: 'handler',
  clientWait: 'handler',
  timeout: 'handler',
  mmFault: 'mm fault',
  responseWrite: 'response',
  toDevice: 'response',
  overflowResponse: 'response',
  resume: 'retry',
  retranslate: 'retry',
};

/** One colour per phase, in PHASES order (legend and canvas share it). */
export const PHASE_COLOURS: readonly string[] = [
  '#8c8c8c',
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#59a14f',
  '#b07aa1',
];

/** The phase index of a hop by name; an unknown hop (a newer emulator) is shown as driver work rather than dropped. */
export function phaseIndex(hop: string): number {
  const phase = HOP_PHASE[hop];
  return phase === undefined ? PHASES.indexOf('driver') : PHASES.indexOf(phase);
}

/** A DMA transaction's bar (not a hop: the span from submission to completion that the flows happened in). */
export const TRANSACTION_COLOUR = '#a6c8e8';
/** Every bar colour by segment code: the phases, then the transaction (TRANSACTION_SEGMENT). */
export const BAR_COLOURS: readonly string[] = [...PHASE_COLOURS, TRANSACTION_COLOUR];
export const TRANSACTION_SEGMENT = PHASE_COLOURS.length;
