/** An experiment's runs as its table lists them: a run on its own, or a sweep's runs together under it. */
import type { RunView } from '@iommu-lab/client';

export type RunGroup = { kind: 'run'; run: RunView } | { kind: 'sweep'; sweepId: string; runs: RunView[] };

/** In the runs' order; a sweep sits where its first run would, its runs in the order they came. */
export function groupBySweep(runs: readonly RunView[]): RunGroup[] {
  const groups: RunGroup[] = [];
  const sweeps = new Map<string, RunView[]>();
  for (const run of runs) {
    if (run.sweepId === null) {
      groups.push({ kind: 'run', run });
      continue;
    }
    const members = sweeps.get(run.sweepId);
    if (members) members.push(run);
    else {
      const first = [run];
      sweeps.set(run.sweepId, first);
      groups.push({ kind: 'sweep', sweepId: run.sweepId, runs: first });
    }
  }
  return groups;
}
