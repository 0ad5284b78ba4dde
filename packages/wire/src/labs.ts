/** Labs: live emulator instances, their clock, and what they are built from. */
import Type, { type Static } from 'typebox';
import { SystemConfigSchema, SystemOptionsSchema } from '@iommu-lab/emulator/schemas';
import { Document, IdSchema } from './common';

export const CreateLabBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
    /** Build the lab from a system config … */
    config: Type.Optional(SystemConfigSchema),
    /** … or from a scenario preset (see GET /presets), or empty with these options. */
    preset: Type.Optional(IdSchema),
    options: Type.Optional(SystemOptionsSchema),
  },
  { additionalProperties: false },
);
export type CreateLab = Static<typeof CreateLabBody>;

/**
 * The window's figures of a page request queue overflow storm the emulator stopped as a livelock
 * (packages/emulator/src/fault/livelock-detector.ts, the `fault.livelock` event): the queue, what was lost
 * and what got through, and the bound it passed.
 */
export const LivelockView = Type.Object({
  iommu: Type.String(),
  queue: Type.String(),
  /** Simulated time it was detected, when the system stopped. */
  atNs: Type.Number(),
  windowBatches: Type.Integer(),
  windowRequests: Type.Integer(),
  lostRequests: Type.Integer(),
  overflowRetries: Type.Integer(),
  usefulFaults: Type.Integer(),
  lostPerUsefulFault: Type.Number(),
  bound: Type.Number(),
});

/** Why a lab's system stopped by itself: a livelock (the only cause so far), in a sentence and in figures. */
export const LabStopped = Type.Object({
  reason: Type.Literal('livelock'),
  /** The sentence a run that stops so fails with (describeLivelock). */
  message: Type.String(),
  livelock: LivelockView,
});

export const ClockState = Type.Object({
  state: Type.Enum(['paused', 'running']),
  /** Simulated ns per wall ns while running, or "max": as fast as the host goes. */
  speed: Type.Union([Type.Number(), Type.Literal('max')]),
  timeNs: Type.Number(),
  pendingEvents: Type.Integer(),
  /**
   * Set once the system stopped by itself: nothing runs after it, whatever `state` says, until the lab is
   * reset. Null while it can run.
   */
  stopped: Type.Union([LabStopped, Type.Null()]),
});
export type Clock = Static<typeof ClockState>;

export const ClockBody = Type.Object(
  {
    action: Type.Enum(['run', 'pause', 'step']),
    speed: Type.Optional(
      Type.Union([Type.Number({ exclusiveMinimum: 0, maximum: 1e6 }), Type.Literal('max')]),
    ),
    /** step: how many events (default 1). */
    steps: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  },
  { additionalProperties: false },
);
export type ClockAction = Static<typeof ClockBody>;

export const LabSummary = Type.Object({
  id: IdSchema,
  name: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  source: Type.Object({
    kind: Type.Enum(['empty', 'config', 'preset']),
    preset: Type.Optional(Type.String()),
  }),
  clock: ClockState,
  counts: Type.Object({
    iommus: Type.Integer(),
    devices: Type.Integer(),
    domains: Type.Integer(),
    processes: Type.Integer(),
  }),
});
export type LabSummaryView = Static<typeof LabSummary>;

export const LabDetail = Type.Object({ ...LabSummary.properties, system: Document });

export const PresetView = Type.Object({
  id: Type.String(),
  title: Type.String(),
  description: Type.String(),
  compareWith: Type.Optional(Type.String()),
  config: Document,
  workload: Document,
});
