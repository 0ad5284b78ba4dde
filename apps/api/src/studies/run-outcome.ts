/**
 * How each run of a study ended, as a result of the study: a run the emulator stopped as a livelock (an
 * overflow storm, fault/livelock-detector.ts) or whose config its kernel profile refused (a step that
 * profile does not have, run-worker.ts `failure`) answered the question as much as a run that finished.
 * Only a failure of the machine (a full disk, a lost worker) leaves the study failed. Which it was is the
 * run's `stoppedBy`, set by whoever ended it, not read from the reason's words (a full disk's reason
 * starts with a code too: "ENOSPC: the database cannot be written …").
 */
export type RunOutcome = 'queued' | 'running' | 'done' | 'livelock' | 'refused' | 'failed' | 'interrupted';

export function runOutcome(run: { status: string; stoppedBy: string | null }): RunOutcome {
  if (run.status !== 'failed') return run.status as RunOutcome;
  if (run.stoppedBy === 'livelock') return 'livelock';
  if (run.stoppedBy === 'refusal') return 'refused';
  return 'failed';
}

/** Outcomes whose run answers the study: it ran to its end, or the emulator ended it by a rule. */
export const ANSWERED: ReadonlySet<RunOutcome> = new Set(['done', 'livelock', 'refused']);

export function studyStatus(outcomes: readonly RunOutcome[]): 'running' | 'done' | 'failed' {
  if (outcomes.some((outcome) => outcome === 'failed' || outcome === 'interrupted')) return 'failed';
  return outcomes.every((outcome) => ANSWERED.has(outcome)) ? 'done' : 'running';
}

export function countOutcomes(outcomes: readonly RunOutcome[]): Partial<Record<RunOutcome, number>> {
  const counts: Partial<Record<RunOutcome, number>> = {};
  for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1;
  return counts;
}
