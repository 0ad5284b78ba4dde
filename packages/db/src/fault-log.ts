/**
 * A run's fault log: written in batches, each batch one transaction that also advances the run's count of
 * records on disk, so the count the API reports is never ahead of the file. Raw prepared statements:
 * Prisma's createMany is about 20 times slower for this (see the package README and `npm run bench`).
 */
import type { Database as Sqlite, Statement } from 'better-sqlite3';

/** One fault, as a tuple (cheap to pass between threads): see FAULT_COLUMNS for the order. */
export type FaultRow = [
  seq: number,
  timeNs: number,
  device: string,
  pasid: number | null,
  address: string,
  access: string,
  category: string | null,
  stage: number | null,
  kind: string,
  code: string,
  latencyNs: number | null,
];

export const FAULT_COLUMNS = [
  'seq',
  'timeNs',
  'device',
  'pasid',
  'address',
  'access',
  'category',
  'stage',
  'kind',
  'code',
  'latencyNs',
] as const;

/** A record as the API returns it. */
export interface FaultRecordView {
  seq: number;
  timeNs: number;
  device: string;
  pasid: number | null;
  address: string;
  access: string;
  category: string | null;
  stage: number | null;
  kind: string;
  code: string;
  latencyNs: number | null;
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
}

/** Rows per multi-row INSERT: fewer statement executions, same transaction. */
const CHUNK = 64;
const SQL_COLUMNS =
  'run_id, seq, time_ns, device, pasid, address, access, category, stage, kind, code, latency_ns';
const ROW_PLACEHOLDERS = `(${new Array(12).fill('?').join(', ')})`;

export class FaultLog {
  private readonly insertChunk: Statement;
  private readonly insertOne: Statement;
  private readonly advance: Statement;
  private readonly args = new Array<unknown>(12 * CHUNK);

  constructor(private readonly db: Sqlite) {
    this.insertChunk = db.prepare(
      `INSERT INTO fault_records (${SQL_COLUMNS}) VALUES ${new Array(CHUNK).fill(ROW_PLACEHOLDERS).join(', ')}`,
    );
    this.insertOne = db.prepare(`INSERT INTO fault_records (${SQL_COLUMNS}) VALUES ${ROW_PLACEHOLDERS}`);
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
    this.db.transaction(() => {
      let i = 0;
      for (; i + CHUNK <= rows.length; i += CHUNK) {
        for (let r = 0; r < CHUNK; r++) fill(this.args, r * 12, runId, rows[i + r]!);
        this.insertChunk.run(this.args);
      }
      for (; i < rows.length; i++) {
        const one = new Array<unknown>(12);
        fill(one, 0, runId, rows[i]!);
        this.insertOne.run(one);
      }
      if (progress) {
        const { transactions, totalTransactions, simulatedNs } = progress;
        this.advance.run(
          rows.length,
          transactions,
          totalTransactions,
          totalTransactions,
          transactions,
          totalTransactions,
          simulatedNs,
          runId,
        );
      } else if (rows.length > 0) {
        this.db
          .prepare('UPDATE runs SET fault_records = fault_records + ? WHERE id = ?')
          .run(rows.length, runId);
      }
    })();
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

const SELECT =
  'seq, time_ns AS timeNs, device, pasid, address, access, category, stage, kind, code, latency_ns AS latencyNs';

function fill(out: unknown[], at: number, runId: string, row: FaultRow): void {
  out[at] = runId;
  for (let c = 0; c < 11; c++) out[at + 1 + c] = row[c];
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
  ] as const) {
    if (filter[key] === undefined) continue;
    clauses.push(`${column} = ?`);
    params.push(filter[key]);
  }
  return { where: clauses.join(' AND '), params };
}
