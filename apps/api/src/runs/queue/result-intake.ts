/**
 * The server's side of the results stream: it reads every worker's messages (one consumer group, so a
 * message the server took but did not finish is read again after a restart), applies each to the
 * database, the only writer of it, and only then acknowledges it on the worker's ack list. Applying a
 * message twice changes nothing more (attempt fencing and row seqs, RunStore.begin, FaultLog.appendAttempt).
 *
 * A message the database cannot take (a full disk) is refused with the reason, and the worker ends that
 * run failed; the intake itself never stops on a message, and a Redis that is away is waited for.
 */
import type { Redis } from 'ioredis';
import { type Database, RunStateError, StaleAttemptError, storageFailure } from '@iommu-lab/db';
import type { EngineLog } from '../job-engine';
import { type Ack, KEYS, PROTOCOL, type ResultMessage } from './protocol';

// A message is at most one batch (10 000 rows, a few MB); four at a time bound what the server holds.
const READ_COUNT = 4;
const BLOCK_MS = 1000;
/** Acks of a worker that never pops them (it died) vanish after this long. */
const ACK_TTL_S = 3600;

type StreamReply = [string, [string, string[]][]][] | null;

export class ResultIntake {
  private running = true;
  /** The messages being applied now. */
  private taking: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly redis: Redis,
    /** Its own connection: XREADGROUP blocks it. */
    private readonly reader: Redis,
    private readonly log: EngineLog,
  ) {}

  start(): void {
    void this.read();
  }

  /**
   * Stops reading: the message being applied is finished and acknowledged (the database closes after
   * this), the rest wait in the stream for the next start; an XREADGROUP left hanging by a lost Redis is
   * dropped, not awaited.
   */
  async close(): Promise<void> {
    this.running = false;
    this.reader.disconnect();
    await this.taking;
  }

  private async read(): Promise<void> {
    // Its own pending messages first (taken before a restart, not acknowledged), then new ones.
    let from = '0';
    while (this.running) {
      let reply: StreamReply;
      try {
        await this.ensureGroup();
        reply = (await this.reader.xreadgroup(
          'GROUP',
          KEYS.resultsGroup,
          'intake',
          'COUNT',
          READ_COUNT,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          KEYS.results,
          from,
        )) as StreamReply;
      } catch {
        if (!this.running) return;
        this.grouped = false; // a Redis that restarted empty has no group
        await new Promise((resolve) => setTimeout(resolve, 250));
        continue;
      }
      const entries = reply?.[0]?.[1] ?? [];
      if (from === '0' && entries.length === 0) from = '>';
      this.taking = this.takeAll(entries);
      await this.taking;
    }
  }

  private async takeAll(entries: [string, string[]][]): Promise<void> {
    for (const [entry, fields] of entries) {
      if (!this.running) return; // the rest are read again at the next start
      await this.take(entry, fields);
    }
  }

  private grouped = false;
  private async ensureGroup(): Promise<void> {
    if (this.grouped) return;
    try {
      await this.redis.xgroup('CREATE', KEYS.results, KEYS.resultsGroup, '0', 'MKSTREAM');
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) throw error;
    }
    this.grouped = true;
  }

  /** Applies one message and acknowledges it; the stream entry goes once the ack is written. */
  private async take(entry: string, fields: string[]): Promise<void> {
    let message: ResultMessage | undefined;
    let ack: Ack;
    try {
      message = JSON.parse(fields[1] ?? '') as ResultMessage;
      ack = await this.apply(message);
    } catch (error) {
      ack = { id: message?.id ?? entry, ok: false, ...this.refusal(error, message) };
    }
    const done = this.redis.multi();
    if (message?.worker)
      done.lpush(KEYS.acks(message.worker), JSON.stringify(ack)).expire(KEYS.acks(message.worker), ACK_TTL_S);
    await done
      .xack(KEYS.results, KEYS.resultsGroup, entry)
      .xdel(KEYS.results, entry)
      .exec()
      .catch(() => {
        // Redis went away after the commit: the entry is read again and applied again, which writes nothing twice.
      });
  }

  private async apply(message: ResultMessage): Promise<Ack> {
    const { id, run, attempt } = message;
    if (message.protocol !== PROTOCOL && message.op !== 'refuse')
      return {
        id,
        ok: false,
        code: 'EPROTO',
        message: `the server speaks protocol ${PROTOCOL}, this message protocol ${message.protocol}.`,
      };
    switch (message.op) {
      case 'start':
        return { id, ok: true, records: await this.db.runs.begin(run, attempt, message.worker) };
      case 'batch':
        this.db.faults.appendAttempt(run, attempt, message.rows, message.progress);
        return { id, ok: true };
      case 'finish':
        await this.db.runs.endAttempt(run, attempt, { status: 'done', results: message.results });
        return { id, ok: true };
      case 'end': {
        const { stop } = message;
        let error = message.error;
        if (!stop) {
          // A failure of the machine: the worker cannot know how many of its batches were committed when
          // it lost Redis; the server can. A run the emulator's rules stopped says why in its own words.
          const records = (await this.db.runs.find(run))?.faultRecords ?? 0;
          error = `${error}; ${records} fault records of this run are on disk.`;
        }
        await this.db.runs.endAttempt(run, attempt, {
          status: message.status,
          error,
          ...(stop ? { stop } : {}),
        });
        return { id, ok: true };
      }
      case 'refuse':
        await this.db.runs.refused(run, attempt, message.worker, message.reason);
        this.log.warn(
          { run, worker: message.worker },
          `a queue worker refused run ${run}: ${message.reason}`,
        );
        return { id, ok: true };
    }
  }

  private refusal(error: unknown, message: ResultMessage | undefined): { code: string; message: string } {
    if (error instanceof RunStateError || error instanceof StaleAttemptError)
      return { code: error.code, message: error.message };
    const storage = storageFailure(error);
    if (storage)
      return {
        code: storage.code,
        message: `the server's database cannot be written, ${storage.meaning} (${storage.detail})`,
      };
    if (!message) return { code: 'EBADMSG', message: 'the message is not JSON.' };
    this.log.warn({ err: error, run: message.run }, 'a queue result could not be applied');
    return { code: 'EINTERNAL', message: error instanceof Error ? error.message : String(error) };
  }
}
