/**
 * The one place a run's status changes. A run is created `queued`; it goes to `running` when a worker takes
 * it, and ends exactly once: `done`, `failed` (with a reason) or `interrupted` (the server stopped; a queued
 * run can also end before it starts). Anything else is refused (RunStateError). Each change is a
 * conditional UPDATE, so two processes on one file (the server and queue workers) cannot both move a run.
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
  interrupted: [],
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

interface PendingEnd {
  status: 'failed' | 'interrupted';
  error: string;
  finishedAt: Date;
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
  createSweep(sweep: { experimentId: string; parameters: object[]; engine: string; runs: NewRun[] }) {
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
    return this.move(run, 'running', { startedAt: new Date() });
  }

  finish(run: string, results: { metrics: object; histograms: object; series?: object }): Promise<void> {
    return this.move(run, 'done', { progress: 1, finishedAt: new Date(), ...results });
  }

  /**
   * Ends a run that did not finish. Returns false when the end could not be written (it is then kept in
   * memory, served by `view`, and written later); a refused transition still throws.
   */
  async end(run: string, status: 'failed' | 'interrupted', error: string): Promise<boolean> {
    const finishedAt = new Date();
    try {
      await this.move(run, status, { error, finishedAt });
      return true;
    } catch (failure) {
      if (!storageFailure(failure)) throw failure;
      this.pending.set(run, { status, error, finishedAt });
      this.retry ??= setInterval(() => void this.flush(), RETRY_MS).unref();
      return false;
    }
  }

  /** Runs left running or queued by a crash or kill, marked interrupted; returns their ids. */
  async interruptUnfinished(error: string): Promise<string[]> {
    const unfinished = { status: { in: ['running', 'queued'] } };
    const stale = await this.prisma.run.findMany({ where: unfinished, select: { id: true } });
    await this.prisma.run.updateMany({
      where: unfinished,
      data: { status: 'interrupted', error, finishedAt: new Date() },
    });
    return stale.map((run) => run.id);
  }

  /** The run as it is: what the file says, with an end not yet written laid over it. */
  view(run: Run): Run {
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
        await this.move(run, end.status, { error: end.error, finishedAt: end.finishedAt });
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

  private async move(run: string, to: RunStatus, data: object): Promise<void> {
    const { count } = await this.prisma.run.updateMany({
      where: { id: run, status: { in: SOURCES(to) } },
      data: { status: to, ...data },
    });
    if (count === 1) return;
    const now = await this.prisma.run.findUnique({ where: { id: run }, select: { status: true } });
    throw new RunStateError(run, now?.status, to);
  }
}
