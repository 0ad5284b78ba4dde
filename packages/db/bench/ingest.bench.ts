/**
 * Fault-log ingestion: rows per second through FaultLog.append (batches of 10,000, each its own
 * transaction with a full sync, as runs write them), beside raw better-sqlite3 multi-row INSERTs of the same
 * rows in one transaction, alternating on fresh files: the median of 3 runs of each.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { interleave, reportRuns } from '@iommu-lab/bench-report';
import { FAULT_COLUMNS, type FaultRow, faultRowOf, openDatabase } from '../src/index';

// 250,000 rows a run (was 1 M in one run): the 6 runs take about 15 s here.
const ROWS = 250_000;
const ROUNDS = 3;
const BATCH = 10_000;

/**
 * A VT-d PRI flow's byte-exact records as the log stores them (seed-5.13: 16 + 32 + 64 + 24 + 32 + 16 bytes,
 * about 560 characters of text a row), the same text in every row.
 */
const PRI_FLOW_RECORDS = JSON.stringify(
  (
    [
      ['pcie.page-request', 16],
      ['vtd.page-request-descriptor', 32],
      ['linux.iommu-fault.uapi-5.13', 64],
      ['linux.iommu-page-response.uapi-5.13', 24],
      ['vtd.page-group-response', 32],
      ['pcie.prg-response', 16],
    ] as const
  ).map(([layout, bytes]) => [layout, '5a'.repeat(bytes)]),
);

// Rows shaped like a PRI flow's: the hops a page request has and its records, the rest null.
const rows: FaultRow[] = Array.from({ length: ROWS }, (_, i) =>
  faultRowOf({
    seq: i,
    timeNs: i * 250,
    device: i % 7 === 0 ? 'gpu0' : 'nic0',
    pasid: i % 3 === 0 ? null : 1,
    address: `0x${(0x7f0000000000 + i * 4096).toString(16)}`,
    access: i % 3 === 0 ? 'w' : 'r',
    category: 'BIND',
    stage: 1,
    kind: 'page-request',
    code: 'SUCCESS',
    latencyNs: 5800 + (i % 100),
    flow: i + 1,
    transaction: (i >> 5) + 1,
    group: (i >> 5) + 1,
    handler: 'sva',
    cause: 'handler',
    outcome: 'resumed',
    endNs: i * 250 + 5800 + (i % 100),
    causes: '',
    toIommuNs: 750,
    queueWaitNs: 200 + (i % 100),
    dispatchNs: 2000,
    handlerNs: 2000,
    responseWriteNs: 300,
    toDeviceNs: 750,
    retranslateNs: 0,
    handlerMmFaultNs: 1500,
    records: PRI_FLOW_RECORDS,
  }),
);

async function faultLog(): Promise<number> {
  const db = await openDatabase(join(mkdtempSync(join(tmpdir(), 'iommu-lab-ingest-')), 'lab.db'));
  const experiment = await db.prisma.experiment.create({
    data: { name: 'bench', tags: [], configVersion: 1, config: {} },
  });
  const run = await db.prisma.run.create({ data: { experimentId: experiment.id, seed: 1, config: {} } });
  const started = performance.now();
  for (let i = 0; i < ROWS; i += BATCH)
    db.faults.append(run.id, rows.slice(i, i + BATCH), {
      transactions: i,
      totalTransactions: ROWS,
      simulatedNs: i,
    });
  const seconds = (performance.now() - started) / 1000;
  if (db.faults.count(run.id) !== ROWS) throw new Error('rows missing');
  await db.close();
  return ROWS / seconds;
}

/** Rows per multi-row INSERT of the baseline: 500 × 43 values stays under SQLite's 32 766 bound parameters. */
const ROWS_PER_INSERT = 500;

/**
 * The same table and rows the simplest fast way: prepared multi-row INSERTs (ROWS_PER_INSERT rows a
 * statement), all in one transaction, with no sync between batches.
 */
async function rawInserts(): Promise<number> {
  const db = await openDatabase(join(mkdtempSync(join(tmpdir(), 'iommu-lab-ingest-')), 'lab.db'));
  const experiment = await db.prisma.experiment.create({
    data: { name: 'bench', tags: [], configVersion: 1, config: {} },
  });
  const run = await db.prisma.run.create({ data: { experimentId: experiment.id, seed: 1, config: {} } });
  const file = db.file;
  await db.close();
  const raw = new BetterSqlite3(file);
  raw.pragma('journal_mode = WAL');
  // The same columns, from the SELECT the fault log reads (name → column).
  const columns = raw
    .prepare('SELECT name FROM pragma_table_info(?) WHERE name NOT IN (?, ?)')
    .pluck()
    .all('fault_records', 'id', 'run_id') as string[];
  if (columns.length !== FAULT_COLUMNS.length) throw new Error('fault_records and FAULT_COLUMNS disagree');
  const tuple = `(${new Array(columns.length + 1).fill('?').join(', ')})`;
  const insertMany = (count: number) =>
    raw.prepare(
      `INSERT INTO fault_records (run_id, ${columns.join(', ')}) VALUES ${new Array(count).fill(tuple).join(', ')}`,
    );
  const full = insertMany(ROWS_PER_INSERT);
  const values: unknown[] = [];
  const started = performance.now();
  raw.transaction(() => {
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      const chunk = rows.slice(i, i + ROWS_PER_INSERT);
      values.length = 0;
      for (const row of chunk) values.push(run.id, ...row);
      (chunk.length === ROWS_PER_INSERT ? full : insertMany(chunk.length)).run(...values);
    }
  })();
  const seconds = (performance.now() - started) / 1000;
  raw.close();
  return ROWS / seconds;
}

reportRuns({
  name: 'db-fault-log-ingest',
  unit: 'rows/s',
  ...(await interleave(ROUNDS, faultLog, rawInserts)),
  better: 'higher',
  note: `${ROWS.toLocaleString('en-US')} rows a run in batches of ${BATCH.toLocaleString('en-US')}, each committed with a full sync; baseline: raw ${ROWS_PER_INSERT}-row INSERTs in one transaction`,
});
