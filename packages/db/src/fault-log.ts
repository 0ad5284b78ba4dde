/**
 * A run's fault log: written in batches, each batch one transaction that also advances the run's count of
 * records on disk, so the count the API reports is never ahead of the file. Raw prepared statements:
 * Prisma's createMany is about 20 times slower for this (see the package README and `npm run bench`).
 */
import type { Database as Sqlite, Statement } from 'better-sqlite3';
import { RunStateError, StaleAttemptError } from './run-store';

/**
 * The columns of a fault record, in tuple order: the JSON name, the SQL column, and what it holds. One
 * record per fault flow (the emulator's anatomy record, packages/emulator/src/flow/fault-flow.ts): who
 * faulted where, how it was answered, and the latency of every hop; a hop that did not apply is null.
 */
const COLUMNS = [
  ['seq', 'seq'],
  /** When the fault happened (the flow's start), simulated ns. */
  ['timeNs', 'time_ns'],
  ['device', 'device'],
  ['pasid', 'pasid'],
  ['address', 'address'],
  ['access', 'access'],
  ['category', 'category'],
  ['stage', 'stage'],
  /** page-request (PRI) | stall | device-handled (self-faulting) | unrecoverable */
  ['kind', 'kind'],
  ['code', 'code'],
  /** The flow end to end, ns (translation failed → DMA resumed or failed). */
  ['latencyNs', 'latency_ns'],
  ['flow', 'flow'],
  ['transaction', 'transaction_id'],
  ['group', 'group_id'],
  ['handler', 'handler'],
  ['cause', 'cause'],
  ['outcome', 'outcome'],
  ['endNs', 'end_ns'],
  /** Flow ids it followed from, comma-separated. */
  ['causes', 'causes'],
  ['replaces', 'replaces'],
  ['replacedBecause', 'replaced_because'],
  ['creditWaitNs', 'credit_wait_ns'],
  ['toIommuNs', 'to_iommu_ns'],
  ['queueWaitNs', 'queue_wait_ns'],
  ['groupWaitNs', 'group_wait_ns'],
  ['dispatchNs', 'dispatch_ns'],
  ['handlerNs', 'handler_ns'],
  ['clientWaitNs', 'client_wait_ns'],
  ['timeoutNs', 'timeout_ns'],
  ['responseWriteNs', 'response_write_ns'],
  ['toDeviceNs', 'to_device_ns'],
  ['overflowResponseNs', 'overflow_response_ns'],
  ['resumeNs', 'resume_ns'],
  ['deviceDriverNs', 'device_driver_ns'],
  ['mmFaultNs', 'mm_fault_ns'],
  ['retranslateNs', 'retranslate_ns'],
  /** The handler hop's breakdown: handle_mm_fault, map, eviction and guest costs. */
  ['handlerMmFaultNs', 'handler_mm_fault_ns'],
  ['handlerMapNs', 'handler_map_ns'],
  ['handlerEvictionNs', 'handler_eviction_ns'],
  ['handlerGuestNs', 'handler_guest_ns'],
  /**
   * An unrecoverable fault's code as its hardware recorded it, in hex (VT-d fault reason, SMMUv3 event ID;
   * `code` holds its name); null otherwise and in rows older than the column. Appended after the hops, as
   * every column added later is, so a CSV's earlier columns keep their positions.
   */
  ['reason', 'reason'],
  /**
   * The flow's byte-exact records (FlowRecord.records, in its order) as JSON text of [layout id, hex]
   * pairs, built once per flow by whoever makes the row and stored as given; "[]" when the flow produced
   * none, null in rows older than the column. Decoding them needs the emulator's layouts: the API does it.
   */
  ['records', 'records'],
] as const;

export const FAULT_COLUMNS = COLUMNS.map(([name]) => name);
export type FaultColumn = (typeof COLUMNS)[number][0];
/** Hop columns, in the order of the emulator's HOPS (each `<hop>Ns`). */
export const HOP_COLUMNS = FAULT_COLUMNS.slice(
  FAULT_COLUMNS.indexOf('creditWaitNs'),
  FAULT_COLUMNS.indexOf('retranslateNs') + 1,
);
const WIDTH = COLUMNS.length;

/** One fault, as a tuple (cheap to pass between threads) in FAULT_COLUMNS order. */
export type FaultRow = RowOf<typeof COLUMNS>;
type RowOf<T extends readonly unknown[]> = { -readonly [I in keyof T]: string | number | null };

type NotNullNumber = 'seq' | 'timeNs' | 'flow' | 'endNs';
type NotNullString = 'device' | 'address' | 'access' | 'kind' | 'code' | 'outcome' | 'causes';
type NullableString = 'category' | 'handler' | 'cause' | 'replacedBecause' | 'reason' | 'records';

/** A record as the log reads it back (the API decodes `records` into each record's fields). */
export type FaultRecordView = {
  [K in FaultColumn]: K extends NotNullNumber
    ? number
    : K extends NotNullString
      ? string
      : K extends NullableString
        ? string | null
        : number | null;
};

/** A row from its fields by name; columns not given are null (for tests and tools, not the hot path). */
export function faultRowOf(fields: Partial<FaultRecordView>): FaultRow {
  return COLUMNS.map(([name]) => fields[name] ?? null) as unknown as FaultRow;
}

export interface RunProgress {
  transactions: number;
  totalTransactions: number;
  simulatedNs: number;
}

export interface FaultFilter {
  kind?: string;
  device?: string;
  pasid?: number;
  category?: string;
  stage?: number;
  code?: string;
  reason?: string;
  outcome?: string;
  flow?: number;
}

/** Rows per multi-row INSERT: fewer statement executions, same transaction. */
const CHUNK = 64;
const SQL_COLUMNS = `run_id, ${COLUMNS.map(([, column]) => column).join(', ')}`;
const ROW_PLACEHOLDERS = `(${new Array(WIDTH + 1).fill('?').join(', ')})`;

export class FaultLog {
  private readonly insertChunk: Statement;
  private readonly insertOne: Statement;
  private readonly advance: Statement;
  private readonly attemptOf: Statement;
  private readonly args = new Array<unknown>((WIDTH + 1) * CHUNK);

  constructor(private readonly db: Sqlite) {
    this.insertChunk = db.prepare(
      `INSERT INTO fault_records (${SQL_COLUMNS}) VALUES ${new Array(CHUNK).fill(ROW_PLACEHOLDERS).join(', ')}`,
    );
    this.insertOne = db.prepare(`INSERT INTO fault_records (${SQL_COLUMNS}) VALUES ${ROW_PLACEHOLDERS}`);
    this.attemptOf = db.prepare('SELECT status, attempt, fault_records FROM runs WHERE id = ?');
    this.advance = db.prepare(
      `UPDATE runs SET fault_records = fault_records + ?, transactions = ?, total_transactions = ?,
         progress = CASE WHEN ? > 0 THEN CAST(? AS REAL) / ? ELSE 0 END, simulated_ns = ? WHERE id = ?`,
    );
  }

  /**
   * Writes a batch for a run and, in the same transaction, the run's progress. When this returns, the batch
   * is on disk.
   */
  append(runId: string, rows: readonly FaultRow[], progress?: RunProgress): void {
    this.db.transaction(() => this.insert(runId, rows, 0, progress))();
  }

  /**
   * Writes a batch of attempt `attempt` of a queued run, only while that attempt is the run's and it is
   * running (StaleAttemptError otherwise). Idempotent: rows already on disk (a batch delivered twice, or a
   * resumed attempt's replay) are skipped by their seq, so a record is never written twice; a batch that
   * would leave a hole in the seqs is refused. Returns how many rows were written.
   */
  appendAttempt(runId: string, attempt: number, rows: readonly FaultRow[], progress: RunProgress): number {
    return this.db.transaction(() => {
      const run = this.attemptOf.get(runId) as
        { status: string; attempt: number; fault_records: number } | undefined;
      if (!run) throw new RunStateError(runId, undefined, 'running');
      if (run.attempt !== attempt || run.status !== 'running')
        throw new StaleAttemptError(runId, attempt, run.attempt, run.status);
      let from = 0;
      while (from < rows.length && (rows[from]![0] as number) < run.fault_records) from++;
      if (from < rows.length && rows[from]![0] !== run.fault_records)
        throw new Error(
          `run "${runId}" has ${run.fault_records} fault records; a batch starting at seq ${rows[from]![0]} would leave a hole`,
        );
      this.insert(runId, rows, from, progress);
      return rows.length - from;
    })();
  }

  /** Rows `from` on, and the progress, inside the caller's transaction. */
  private insert(runId: string, rows: readonly FaultRow[], from: number, progress?: RunProgress): void {
    let i = from;
    for (; i + CHUNK <= rows.length; i += CHUNK) {
      for (let r = 0; r < CHUNK; r++) fill(this.args, r * (WIDTH + 1), runId, rows[i + r]!);
      this.insertChunk.run(this.args);
    }
    for (; i < rows.length; i++) {
      const one = new Array<unknown>(WIDTH + 1);
      fill(one, 0, runId, rows[i]!);
      this.insertOne.run(one);
    }
    if (progress) {
      const { transactions, totalTransactions, simulatedNs } = progress;
      this.advance.run(
        rows.length - from,
        transactions,
        totalTransactions,
        totalTransactions,
        transactions,
        totalTransactions,
        simulatedNs,
        runId,
      );
    } else if (rows.length > from) {
      this.db
        .prepare('UPDATE runs SET fault_records = fault_records + ? WHERE id = ?')
        .run(rows.length - from, runId);
    }
  }

  count(runId: string, filter: FaultFilter = {}): number {
    const { where, params } = whereClause(runId, filter);
    return (
      this.db.prepare(`SELECT count(*) AS n FROM fault_records WHERE ${where}`).get(...params) as {
        n: number;
      }
    ).n;
  }

  /** Records after `after` (a seq), in order. */
  page(runId: string, after: number, limit: number, filter: FaultFilter = {}): FaultRecordView[] {
    const { where, params } = whereClause(runId, filter);
    return this.db
      .prepare(`SELECT ${SELECT} FROM fault_records WHERE ${where} AND seq > ? ORDER BY seq LIMIT ?`)
      .all(...params, after, limit) as FaultRecordView[];
  }

  /** Every matching record, in order, without holding them all in memory (CSV / JSONL downloads). */
  *iterate(runId: string, filter: FaultFilter = {}): Generator<FaultRecordView> {
    const { where, params } = whereClause(runId, filter);
    yield* this.db
      .prepare(`SELECT ${SELECT} FROM fault_records WHERE ${where} ORDER BY seq`)
      .iterate(...params) as Iterable<FaultRecordView>;
  }
}

const SELECT = COLUMNS.map(([name, column]) => (name === column ? column : `${column} AS "${name}"`)).join(
  ', ',
);

function fill(out: unknown[], at: number, runId: string, row: FaultRow): void {
  out[at] = runId;
  for (let c = 0; c < WIDTH; c++) out[at + 1 + c] = row[c] ?? null;
}

function whereClause(runId: string, filter: FaultFilter): { where: string; params: unknown[] } {
  const clauses = ['run_id = ?'];
  const params: unknown[] = [runId];
  for (const [key, column] of [
    ['kind', 'kind'],
    ['device', 'device'],
    ['pasid', 'pasid'],
    ['category', 'category'],
    ['stage', 'stage'],
    ['code', 'code'],
    ['reason', 'reason'],
    ['outcome', 'outcome'],
    ['flow', 'flow'],
  ] as const) {
    if (filter[key] === undefined) continue;
    clauses.push(`${column} = ?`);
    params.push(filter[key]);
  }
  return { where: clauses.join(' AND '), params };
}
