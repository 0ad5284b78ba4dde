/**
 * `npm start` on a database it cannot use prints one sentence naming the file and the cause, and exits
 * with code 2 (the operator's to fix), instead of a stack trace or "External error id#0".
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { openDatabase } from '@iommu-lab/db';
import { describe, expect, it } from 'vitest';
import { call, startServer } from '../testing/harness';
import { runMain as runServerMain } from '../testing/run-main';

const runMain = (databaseFile: string) => runServerMain({ IOMMU_LAB_DB: databaseFile });

describe('the server started on a database it cannot use', () => {
  it('a file another server is using: exit code 2 at once, and the first server goes on', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'iommu-lab-main-')), 'lab.db');
    const first = await startServer({ databaseFile: file });
    try {
      const { code, stderr } = await runMain(file);
      expect(code).toBe(2);
      expect(stderr).toBe(`cannot open the database ${file}: another iommu-lab server is using it.\n`);
      expect((await call(first.url, 'GET', '/api/v1/experiments')).status).toBe(200);
    } finally {
      await first.close();
    }
  });

  it('a file that is not a database: exit code 2 and one sentence', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'iommu-lab-main-')), 'lab.db');
    writeFileSync(file, 'not a database\n'.repeat(500));
    const { code, stderr } = await runMain(file);
    expect(code).toBe(2);
    expect(stderr).toBe(
      `cannot open the database ${file}: it is not an SQLite database (file is not a database).\n`,
    );
  });

  it('a file from a newer build: exit code 2, naming the file and the unknown migration', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'iommu-lab-main-')), 'lab.db');
    await (await openDatabase(file)).close();
    const raw = new BetterSqlite3(file);
    raw
      .prepare(
        `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
         VALUES ('x', 'c', '20991231000000_next', 0, 0, 1)`,
      )
      .run();
    raw.close();
    const { code, stderr } = await runMain(file);
    expect(code).toBe(2);
    expect(stderr).toBe(
      `cannot open the database ${file}: a newer iommu-lab wrote it (migration 20991231000000_next is unknown to this build); run a newer build or another file.\n`,
    );
  });
});
