import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, openDatabase, pendingSchemaChange } from './index';
import { testRow } from './testing/fault-rows';

const tempFile = () => join(mkdtempSync(join(tmpdir(), 'iommu-lab-db-')), 'data', 'lab.db');

async function withRun(file: string) {
  const db = await openDatabase(file);
  const experiment = await db.prisma.experiment.create({
    data: { name: 'e', tags: [], configVersion: 1, config: { version: 1 } },
  });
  const run = await db.prisma.run.create({ data: { experimentId: experiment.id, seed: 1, config: {} } });
  return { db, run: run.id };
}

const row = testRow;

describe('the database', () => {
  it('is created with its folder and migrated on first open, and migrating again applies nothing', async () => {
    const file = tempFile();
    const first = await openDatabase(file);
    expect(first.migrated.length).toBe(readdirSync(MIGRATIONS_DIR).filter((n) => /^\d/.test(n)).length);
    await first.close();
    const second = await openDatabase(file);
    expect(second.migrated).toEqual([]);
    expect(await second.prisma.experiment.count()).toBe(0);
    await second.close();
  });

  it('drift check: schema.prisma and the migrations agree', async () => {
    expect(await pendingSchemaChange()).toBe('');
  });

  it('drift check: a model change without a migration is caught, with the SQL that is missing', async () => {
    // A copy of the migrations that lacks one index its migration made disagrees with schema.prisma.
    const dir = mkdtempSync(join(tmpdir(), 'iommu-lab-migrations-'));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    const index = /CREATE INDEX "fault_records_run_id_flow_idx"[^;]*;/;
    const made = readdirSync(dir)
      .filter((n) => /^\d/.test(n))
      .map((folder) => join(dir, folder, 'migration.sql'))
      .find((file) => index.test(readFileSync(file, 'utf8')));
    expect(made).toBeDefined();
    writeFileSync(made!, readFileSync(made!, 'utf8').replace(index, ''));
    expect(await pendingSchemaChange(dir)).toMatch(index);
  });

  it('runs left running or queued by a crash are marked interrupted at the next open, keeping their records', async () => {
    const file = tempFile();
    const { db, run } = await withRun(file);
    await db.prisma.run.update({ where: { id: run }, data: { status: 'running' } });
    db.faults.append(run, [row(0), row(1)], { transactions: 5, totalTransactions: 10, simulatedNs: 100 });
    await db.close();
    const reopened = await openDatabase(file);
    expect(reopened.interrupted).toEqual([run]);
    const after = await reopened.prisma.run.findUniqueOrThrow({ where: { id: run } });
    expect(after).toMatchObject({ status: 'interrupted', faultRecords: 2, transactions: 5, progress: 0.5 });
    expect(reopened.faults.count(run)).toBe(2);
    await reopened.close();
  });
});

describe('the fault log', () => {
  it('a batch and the run count it advances are written in one transaction', async () => {
    const { db, run } = await withRun(tempFile());
    const rows = Array.from({ length: 1000 }, (_, i) => row(i));
    db.faults.append(run, rows, { transactions: 10, totalTransactions: 40, simulatedNs: 5e6 });
    const stored = await db.prisma.run.findUniqueOrThrow({ where: { id: run } });
    expect(stored).toMatchObject({ faultRecords: 1000, transactions: 10, progress: 0.25, simulatedNs: 5e6 });
    expect(db.faults.count(run)).toBe(1000);
    // A batch that fails part-way leaves nothing behind, and the count unchanged.
    const broken = [row(1000), row(1001, { device: null as unknown as string })];
    expect(() => db.faults.append(run, broken)).toThrow(/NOT NULL/);
    expect(db.faults.count(run)).toBe(1000);
    expect((await db.prisma.run.findUniqueOrThrow({ where: { id: run } })).faultRecords).toBe(1000);
    await db.close();
  });

  it('pages in order after a sequence number, with filters, and iterates every match', async () => {
    const { db, run } = await withRun(tempFile());
    db.faults.append(run, [
      row(0),
      row(1, { device: 'gpu0', category: 'MAP', stage: 2 }),
      row(2, { kind: 'unrecoverable', code: 'TRANSLATION', latencyNs: null, category: null }),
      row(3),
    ]);
    expect(db.faults.page(run, -1, 2).map((r) => r.seq)).toEqual([0, 1]);
    expect(db.faults.page(run, 1, 10).map((r) => r.seq)).toEqual([2, 3]);
    expect(db.faults.page(run, -1, 10, { device: 'gpu0' })).toMatchObject([
      {
        seq: 1,
        timeNs: 10,
        device: 'gpu0',
        pasid: 1,
        address: '0x1000',
        access: 'r',
        category: 'MAP',
        stage: 2,
        kind: 'page-request',
        code: 'SUCCESS',
        latencyNs: 500,
        flow: 2,
        outcome: 'resumed',
        queueWaitNs: 200,
        handlerNs: 300,
        // A hop that did not apply reads back as null, not 0.
        toIommuNs: null,
      },
    ]);
    expect(db.faults.page(run, -1, 10, { flow: 4 }).map((r) => r.seq)).toEqual([3]);
    expect(db.faults.count(run, { kind: 'unrecoverable' })).toBe(1);
    expect(db.faults.page(run, -1, 10, { kind: 'unrecoverable' })[0]).toMatchObject({
      latencyNs: null,
      category: null,
    });
    expect([...db.faults.iterate(run, { category: 'BIND' })].map((r) => r.seq)).toEqual([0, 3]);
    await db.close();
  });

  it('what the writer committed is on disk for another connection, before the writer closes', async () => {
    const file = tempFile();
    const { db, run } = await withRun(file);
    db.faults.append(
      run,
      Array.from({ length: 130 }, (_, i) => row(i)),
    );
    const reader = new BetterSqlite3(file, { readonly: true });
    expect(reader.prepare('SELECT count(*) AS n FROM fault_records').get()).toEqual({ n: 130 });
    reader.close();
    await db.close();
  });
});
