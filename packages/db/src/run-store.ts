/**
 * The one place a run's status changes. A run is created `queued`; it goes to `running` when a worker takes
 * it, and ends once: `done`, `failed` (with a reason) or `interrupted` (the server stopped, or the queue
 * worker running it was lost; a queued run can also end before it starts). Anything else is refused
 * (RunStateError). Each change is a conditional UPDATE, so two writers cannot both move a run.
 *
 * A run on the job queue is taken in numbered attempts (`begin`): a retry after a lost worker resumes an
 * interrupted run at the records already on disk, and only the current attempt may write the run
 * (StaleAttemptError otherwise), so a worker that lost its job cannot write beside the one that took it.
 *
 * An end that cannot be written (a full disk, a read-only file) is kept in memory, served by `view`, and
 * written again every few seconds and at close: a full disk must not hide that the run failed, nor why.
 */
import type { PrismaClient, Run } from './generated/prisma/client';
import { storageFailure } from './storage-error';

export type RunStatus = 'queued' | 'running' | 'done' | 'failed' | 'interrupted';

const NEXT: Record<RunStatus, readonly RunStatus[]> = {
  queued: ['running', 'failed', 'interrupted'],
  running: ['done', 'failed', 'interrupted'],
  done: [],
  failed: [],
  // Only through `begin` (a queue retry resumes it) or when the queue gives up on it.
  interrupted: ['running', 'failed'],
};
const SOURCES = (to: RunStatus) =>
  (Object.keys(NEXT) as RunStatus[]).filter((from) => NEXT[from].includes(to));

/** A transition the state machine refuses (or a run that is not there). */
export class RunStateError extends Error {
  readonly code = 'ERUNSTATE';
  readonly kind = 'conflict';
  constructor(
    readonly run: string,
    readonly from: string | undefined,
    readonly to: RunStatus,
  ) {
    super(
      from === undefined
        ? `no run "${run}" to mark ${to}.`
        : `run "${run}" is ${from}; it cannot become ${to}.`,
    );
  }
}

/** Results of an attempt that is no longer the run's (another worker took it, or it ended). */
export class StaleAttemptError extends Error {
  readonly code = 'ESTALE';
  readonly kind = 'conflict';
  constructor(
    readonly run: string,
    readonly attempt: number,
    readonly current: number,
    readonly status: string,
  ) {
    super(
      `attempt ${attempt} of run "${run}" is no longer its own: the run is ${status} at attempt ${current}.`,
    );
  }
}

/** One attempt of a queued run (RunView's attempts). */
export interface RunAttempt {
  attempt: number;
  worker: string;
  startedAt: string;
  recordsAtStart: number;
  endedAt: string | null;
  end: 'done' | 'failed' | 'interrupted' | 'lost' | 'refused' | null;
  reason: string | null;
}

/**
 * A failed run the emulator's own rules ended (Run.stoppedBy): it answered its question, unlike one the
 * machine failed. `metrics`: a livelock's counts up to the stop.
 */
export interface RunStop {
  by: 'livelock' | 'refusal';
  metrics?: object;
}

interface PendingEnd {
  status: 'failed' | 'interrupted';
  error: string;
  finishedAt: Date;
  stoppedBy?: RunStop['by'];
  metrics?: object;
}

/** The columns a run's end writes besides its status. */
function endColumns(error: string, stop: RunStop | undefined) {
  return {
    error,
    ...(stop ? { stoppedBy: stop.by } : {}),
    ...(stop?.metrics ? { metrics: stop.metrics } : {}),
  };
}

export interface NewRun {
  experimentId: string;
  seed: number;
  label: string;
  config: object;
  /** local (the default) or bullmq. */
  engine?: string;
}

const RETRY_MS = 5000;

export class RunStore {
  /** Ends that could not be written yet, by run. */
  private readonly pending = new Map<string, PendingEnd>();
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly prisma: PrismaClient) {}

  create(run: NewRun): Promise<Run> {
    return this.prisma.run.create({ data: run });
  }

  /** A sweep and its runs (all queued), in one transaction. */
  createSweep(sweep: {
    experimentId: string;
    parameters: object[];
    engine: string;
    /** The study run it is one experiment of. */
    studyRunId?: string;
    runs: NewRun[];
  }) {
    const { runs, ...fields } = sweep;
    return this.prisma.sweep.create({
      data: { ...fields, runs: { create: runs.map((run) => ({ ...run, engine: fields.engine })) } },
      include: { runs: { orderBy: { createdAt: 'asc' } } },
    });
  }

  /** Removes a run that was refused after it was saved (its engine would not take it). */
  async discard(id: string): Promise<void> {
    await this.prisma.run.delete({ where: { id } });
  }

  /** Removes a sweep that was refused after it was saved (its runs go with it). */
  async discardSweep(id: string): Promise<void> {
    await this.prisma.sweep.delete({ where: { id } });
  }

  start(run: string): Promise<void> {
    return this.move(run, 'running', { startedAt: new Date() }, ['queued']);
  }

  /**
   * Attempt `attempt` (numbered by the queue, higher than any before) of `worker` takes the run: a queued
   * run starts; an interrupted one, or one still running under an earlier attempt (whose worker was lost
   * before the server noticed), resumes, and that earlier attempt is closed as lost. Returns the fault
   * records on disk, which the attempt does not send again. An ended run, or an older attempt, is refused.
   */
  async begin(run: string, attempt: number, worker: string): Promise<number> {
    const now = await this.prisma.run.findUnique({ where: { id: run } });
    if (!now || now.status === 'done' || now.status === 'failed')
      throw new RunStateError(run, now?.status, 'running');
    if (attempt <= now.attempt) throw new StaleAttemptError(run, attempt, now.attempt, now.status);
    const at = new Date();
    const attempts = closeLast(attemptsOf(now.attempts), {
      end: 'lost',
      reason: `attempt ${attempt} on ${worker} took the run over`,
      at,
    });
    attempts.push({
      attempt,
      worker,
      startedAt: at.toISOString(),
      recordsAtStart: now.faultRecords,
      endedAt: null,
      end: null,
      reason: null,
    });
    const { count } = await this.prisma.run.updateMany({
      where: { id: run, attempt: now.attempt, status: now.status },
      data: {
        status: 'running',
        attempt,
        worker,
        attempts: attempts as object[],
        startedAt: now.startedAt ?? at,
        error: null,
        stoppedBy: null,
        finishedAt: null,
      },
    });
    // Moved meanwhile (the queue gave up on it, another attempt began): look again.
    if (count === 0) return this.begin(run, attempt, worker);
    return now.faultRecords;
  }

  /** A worker refused the run (its versions differ from the job's): recorded as an attempt; the run waits. */
  async refused(run: string, attempt: number, worker: string, reason: string): Promise<void> {
    const now = await this.prisma.run.findUnique({ where: { id: run } });
    if (!now) throw new RunStateError(run, undefined, 'running');
    const at = new Date().toISOString();
    const attempts = [
      ...attemptsOf(now.attempts),
      {
        attempt,
        worker,
        startedAt: at,
        recordsAtStart: now.faultRecords,
        endedAt: at,
        end: 'refused' as const,
        reason,
      },
    ];
    await this.prisma.run.update({ where: { id: run }, data: { attempts: attempts as object[] } });
  }

  /** The run's current attempt ends (done, failed or interrupted); refused for an attempt not its own. */
  async endAttempt(
    run: string,
    attempt: number,
    end:
      | { status: 'done'; results: { metrics: object; histograms: object; series?: object } }
      | {
          status: 'failed' | 'interrupted' | 'lost';
          error: string;
          stop?: RunStop;
        },
  ): Promise<void> {
    const now = await this.prisma.run.findUnique({ where: { id: run } });
    if (!now) throw new RunStateError(run, undefined, end.status === 'lost' ? 'interrupted' : end.status);
    if (now.attempt !== attempt || now.status !== 'running')
      throw new StaleAttemptError(run, attempt, now.attempt, now.status);
    const at = new Date();
    const attempts = closeLast(attemptsOf(now.attempts), {
      end: end.status,
      reason: end.status === 'done' ? null : end.error,
      at,
    });
    const data =
      end.status === 'done'
        ? { status: 'done', progress: 1, finishedAt: at, ...end.results }
        : {
            status: end.status === 'lost' ? 'interrupted' : end.status,
            finishedAt: at,
            ...endColumns(end.error, end.stop),
          };
    const { count } = await this.prisma.run.updateMany({
      where: { id: run, attempt, status: 'running' },
      data: { ...data, attempts: attempts as object[] },
    });
    if (count === 0) return this.endAttempt(run, attempt, end);
  }

  finish(run: string, results: { metrics: object; histograms: object; series?: object }): Promise<void> {
    return this.move(run, 'done', { progress: 1, finishedAt: new Date(), ...results });
  }

  /**
   * Ends a run that did not finish; `stop` when the emulator's rules ended it. Returns false when the end could not be written (it is then kept in
   * memory, served by `view`, and written later); a refused transition still throws.
   */
  async end(run: string, status: 'failed' | 'interrupted', error: string, stop?: RunStop): Promise<boolean> {
    const end: PendingEnd = { status, finishedAt: new Date(), ...endColumns(error, stop) };
    try {
      await this.move(run, status, endData(end));
      return true;
    } catch (failure) {
      if (!storageFailure(failure)) throw failure;
      this.pending.set(run, end);
      this.retry ??= setInterval(() => void this.flush(), RETRY_MS).unref();
      return false;
    }
  }

  /**
   * Runs of the server's own pool left running or queued by a crash or kill, marked interrupted; returns
   * their ids. Runs on the job queue are not (`engine` 'bullmq' asks for them): their workers may still be
   * running them, and the queue's engine reconciles them once it reaches Redis.
   */
  async interruptUnfinished(error: string, engine: 'local' | 'bullmq' = 'local'): Promise<string[]> {
    const unfinished = { status: { in: ['running', 'queued'] }, engine };
    const stale = await this.prisma.run.findMany({ where: unfinished, select: { id: true } });
    await this.prisma.run.updateMany({
      where: unfinished,
      data: { status: 'interrupted', error, finishedAt: new Date() },
    });
    return stale.map((run) => run.id);
  }

  /** The run (or the columns of it that were read) with an end not yet written, as it will be. */
  view<T extends { id: string }>(run: T): T {
    const end = this.pending.get(run.id);
    return end ? { ...run, ...end } : run;
  }

  async find(id: string): Promise<Run | null> {
    const run = await this.prisma.run.findUnique({ where: { id } });
    return run && this.view(run);
  }

  /** Ends not yet written, written now if the file takes them; returns how many are still waiting. */
  async flush(): Promise<number> {
    for (const [run, end] of this.pending) {
      try {
        await this.move(run, end.status, endData(end));
        this.pending.delete(run);
      } catch (failure) {
        // Still full: try again later. A run that was removed meanwhile has nothing left to end.
        if (!storageFailure(failure)) this.pending.delete(run);
      }
    }
    if (this.pending.size === 0 && this.retry) {
      clearInterval(this.retry);
      this.retry = undefined;
    }
    return this.pending.size;
  }

  async close(): Promise<void> {
    await this.flush();
    clearInterval(this.retry);
    this.retry = undefined;
  }

  private async move(
    run: string,
    to: RunStatus,
    data: object,
    from: readonly RunStatus[] = SOURCES(to),
  ): Promise<void> {
    const { count } = await this.prisma.run.updateMany({
      where: { id: run, status: { in: [...from] } },
      data: { status: to, ...data },
    });
    if (count === 1) return;
    const now = await this.prisma.run.findUnique({ where: { id: run }, select: { status: true } });
    throw new RunStateError(run, now?.status, to);
  }
}

/** The columns an end writes beside the status. */
function endData({ status: _status, ...data }: PendingEnd): Omit<PendingEnd, 'status'> {
  return data;
}

function attemptsOf(json: unknown): RunAttempt[] {
  return Array.isArray(json) ? (json as RunAttempt[]).map((attempt) => ({ ...attempt })) : [];
}

/** The last attempt, if it has not ended, ends as `end` at `at`. */
function closeLast(
  attempts: RunAttempt[],
  { end, reason, at }: { end: NonNullable<RunAttempt['end']>; reason: string | null; at: Date },
): RunAttempt[] {
  const last = attempts.at(-1);
  if (last && last.end === null) Object.assign(last, { end, reason, endedAt: at.toISOString() });
  return attempts;
}
