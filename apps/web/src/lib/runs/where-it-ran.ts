/**
 * Where a run ran, as a person reads it: on a queue worker (by the id GET /workers lists), or in the
 * server's local pool, and, when a worker was lost under it, each attempt and how it ended.
 */
import type { RunAttempt, RunView } from '@iommu-lab/client';
import { wallSpan } from '../time/ago';

/** "ran on host:123:ab", "runs on …", "local pool", or why no worker is named yet. */
export function whereItRan(run: Pick<RunView, 'engine' | 'worker' | 'status'>): string {
  const active = run.status === 'queued' || run.status === 'running';
  if (run.worker !== null) return `${active ? 'runs' : 'ran'} on ${run.worker}`;
  if (run.engine === 'local') return 'local pool';
  return active ? 'waiting in the queue for a worker' : 'no worker took it';
}

/** One attempt in a line: "attempt 2 on w1: started with 120 fault records on disk, ended lost after 3.2 s: …". */
export function describeAttempt(attempt: RunAttempt): string {
  // A refused job never ran there: the worker's versions differed from the job's (the reason says which).
  if (attempt.end === 'refused')
    return `attempt ${attempt.attempt} on ${attempt.worker}: refused${attempt.reason ? `: ${attempt.reason}` : ''}`;
  const records = `${attempt.recordsAtStart.toLocaleString('en')} fault ${attempt.recordsAtStart === 1 ? 'record' : 'records'}`;
  const start = `attempt ${attempt.attempt} on ${attempt.worker}: started with ${records} on disk`;
  if (attempt.end === null || attempt.endedAt === null) return `${start}, still running`;
  const end = `${start}, ended ${attempt.end} after ${wallSpan(attempt.startedAt, attempt.endedAt)}`;
  return attempt.reason ? `${end}: ${attempt.reason}` : end;
}
