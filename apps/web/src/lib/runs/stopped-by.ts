/** What a run's `stoppedBy` says on its badge: the emulator's own rule ended it, not the machine. */
import type { RunView } from '@iommu-lab/client';

export const STOPPED_BY: Record<NonNullable<RunView['stoppedBy']>, { label: string; title: string }> = {
  livelock: {
    label: 'stopped: livelock',
    title:
      'The emulator stopped this run as a livelock (a page request queue overflow storm); its records and metrics up to the stop are kept.',
  },
  refusal: {
    label: 'refused by its profile',
    title: "The run's kernel profile refused its config or one of its steps; the reason says which rule.",
  },
};
