/**
 * A queue worker's RunSink: each of a run's status changes and fault record batches goes to the server as
 * a message on the results stream, and resolves when the server has committed it (its ack). The run's
 * thread waits for those acks (at most MAX_UNACKED batches ahead, run-worker.ts), so a worker that outruns
 * its server waits instead of holding results.
 *
 * Redis lost mid-run: ioredis reconnects and sends what waits; a message not acknowledged within `lossMs`
 * ends the run failed (the end itself is delivered when Redis is back).
 */
import type { Redis } from 'ioredis';
import type { FaultRow, RunProgress, RunStop } from '@iommu-lab/db';
import type { RunProgressView, RunResults, RunSink } from '../run-manager';
import { type Ack, KEYS, PROTOCOL, type ResultMessage } from './protocol';

/** How long a stopping worker waits for the server to take each run's end. */
const STOP_WAIT_MS = 3000;

type Body = ResultMessage extends infer M ? (M extends unknown ? Omit<M, keyof Envelope> : never) : never;
type Envelope = { protocol: number; id: string; worker: string; run: string; attempt: number };

/** No ack within the bound: Redis (or the server behind it) is unreachable. */
export class ResultsLostError extends Error {
  readonly code = 'EQUEUELOST';
}

/** The server refused the message (its code and sentence). */
export class RefusedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Pops this worker's ack list on its own (blocking) connection and hands each ack to its waiter. */
export class AckReader {
  private readonly waiting = new Map<string, (ack: Ack) => void>();
  private running = true;

  constructor(
    private readonly blocking: Redis,
    private readonly key: string,
  ) {
    void this.read();
  }

  wait(id: string): Promise<Ack> {
    return new Promise((resolve) => this.waiting.set(id, resolve));
  }

  forget(id: string): void {
    this.waiting.delete(id);
  }

  private async read(): Promise<void> {
    while (this.running) {
      let popped: [string, string] | null;
      try {
        popped = await this.blocking.brpop(this.key, 1);
      } catch {
        // Redis away: ioredis reconnects; try again shortly.
        if (this.running) await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      if (!popped) continue;
      const ack = JSON.parse(popped[1]) as Ack;
      const waiter = this.waiting.get(ack.id);
      this.waiting.delete(ack.id);
      waiter?.(ack);
    }
  }

  /**
   * Stops reading. The loop is not awaited: a BRPOP sent while Redis was away never settles after
   * disconnect (ioredis keeps it queued), and nothing waits on it any more.
   */
  close(): void {
    this.running = false;
    this.blocking.disconnect();
  }
}

export class ResultSink implements RunSink {
  /** Each run's attempt (given by the queue worker before the run starts) and its next message seq. */
  private readonly attempts = new Map<string, { attempt: number; seq: number }>();

  constructor(
    private readonly redis: Redis,
    private readonly acks: AckReader,
    private readonly worker: string,
    private readonly address: string,
    private lossMs: number,
  ) {}

  /** The worker is stopping: what it still sends (its runs' ends) waits for the server only briefly. */
  stopping(): void {
    this.lossMs = Math.min(this.lossMs, STOP_WAIT_MS);
  }

  /** The attempt this worker makes at `run` (numbered by the queue worker). */
  attempt(run: string, attempt: number): void {
    this.attempts.set(run, { attempt, seq: 0 });
  }

  async start(run: string): Promise<number | null> {
    try {
      const ack = await this.send(run, { op: 'start' });
      return ack.records ?? 0;
    } catch (error) {
      // Gone, ended, or taken by a later attempt: there is nothing to run.
      if (error instanceof RefusedError && ['ERUNSTATE', 'ESTALE'].includes(error.code)) return null;
      throw error;
    }
  }

  async append(run: string, rows: FaultRow[], progress: RunProgress): Promise<void> {
    await this.send(run, { op: 'batch', rows, progress });
  }

  async finish(run: string, results: RunResults): Promise<void> {
    await this.send(run, { op: 'finish', results });
    this.attempts.delete(run);
  }

  async end(
    run: string,
    status: 'failed' | 'interrupted',
    error: string,
    stop?: RunStop,
  ): Promise<RunProgressView | null> {
    try {
      await this.send(run, { op: 'end', status, error, ...(stop ? { stop } : {}) });
    } catch {
      // Refused (taken by another attempt meanwhile), or Redis away: the message waits in ioredis's queue.
    }
    this.attempts.delete(run);
    return null;
  }

  /** Tells the server this worker will not run attempt `attempt` of `run`, and why. */
  async refuse(run: string, attempt: number, reason: string): Promise<void> {
    this.attempt(run, attempt);
    try {
      await this.send(run, { op: 'refuse', reason });
    } finally {
      this.attempts.delete(run);
    }
  }

  /** The server, which knows, adds how many of the run's records are on its disk (ResultIntake). */
  reason(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
  }

  /** Sends one message and waits for the server's ack; rejects with the server's refusal or on the bound. */
  private async send(run: string, body: Body): Promise<Extract<Ack, { ok: true }>> {
    const state = this.attempts.get(run);
    if (!state) throw new Error(`run "${run}" has no attempt on this worker`);
    const id = `${run}/${state.attempt}/${state.seq++}`;
    const message = { protocol: PROTOCOL, id, worker: this.worker, run, attempt: state.attempt, ...body };
    const acked = this.acks.wait(id);
    let timer: NodeJS.Timeout | undefined;
    const lost = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ResultsLostError(
              `Redis at ${this.address} took no result of this run for ${this.lossMs / 1000} s (unreachable, or the server is not reading)`,
            ),
          ),
        this.lossMs,
      );
    });
    try {
      const [ack] = await Promise.all([
        Promise.race([acked, lost]),
        Promise.race([this.redis.xadd(KEYS.results, '*', 'm', JSON.stringify(message)), lost]),
      ]);
      if (!ack.ok) throw new RefusedError(ack.code, `${ack.code}: ${ack.message}`);
      return ack;
    } finally {
      clearTimeout(timer);
      this.acks.forget(id);
    }
  }
}
