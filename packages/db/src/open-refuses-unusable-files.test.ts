/**
 * A file the server cannot use is refused at open with a DatabaseOpenError: a stable code, the file, and
 * the cause in one sentence (not "External error id#0" or a Rust enum after five seconds).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DatabaseOpenError, openDatabase } from './index';

const tempDir = () => mkdtempSync(join(tmpdir(), 'iommu-lab-open-'));

async function refusal(file: string): Promise<DatabaseOpenError> {
  const error = await openDatabase(file).then(
    async (db) => {
      await db.close();
      throw new Error(`${file} was opened`);
    },
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(DatabaseOpenError);
  return error as DatabaseOpenError;
}

/** chattr +i stops root too (tests run as root here, where chmod does not). */
function immutable(path: string): boolean {
  try {
    execFileSync('chattr', ['+i', path], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const frozen: string[] = [];
afterEach(() => {
  for (const path of frozen.splice(0)) execFileSync('chattr', ['-i', path]);
});

describe('opening a database the server cannot use', () => {
  it('a folder nothing may write to: ECANTOPEN, naming the file', async (context) => {
    const dir = join(tempDir(), 'locked');
    mkdirSync(dir);
    if (!immutable(dir)) return context.skip('chattr +i is not available here (no CAP_LINUX_IMMUTABLE)');
    frozen.push(dir);
    const file = join(dir, 'lab.db');
    const error = await refusal(file);
    expect(error.code).toBe('ECANTOPEN');
    expect(error.file).toBe(file);
    expect(error.message).toBe(
      `cannot open the database ${file}: the file cannot be created or opened there (unable to open database file).`,
    );
  });

  it('a folder that cannot be created: EACCES, with the system’s reason', async (context) => {
    const dir = join(tempDir(), 'locked');
    mkdirSync(dir);
    if (!immutable(dir)) return context.skip('chattr +i is not available here (no CAP_LINUX_IMMUTABLE)');
    frozen.push(dir);
    const file = join(dir, 'data', 'lab.db');
    const error = await refusal(file);
    expect(error.code).toBe('EACCES');
    expect(error.message).toBe(`cannot open the database ${file}: its folder cannot be created (EPERM).`);
  });

  it('an existing file nothing may write to: EROFS', async (context) => {
    const file = join(tempDir(), 'lab.db');
    await (await openDatabase(file)).close();
    if (!immutable(file)) return context.skip('chattr +i is not available here (no CAP_LINUX_IMMUTABLE)');
    frozen.push(file);
    const error = await refusal(file);
    expect(error.code).toBe('EROFS');
    expect(error.message).toMatch(
      /^cannot open the database .*lab\.db: the file cannot be written \(read-only\)/,
    );
  });

  it('a file that is not a database: ENOTDB, and the file is left as it was', async () => {
    const file = join(tempDir(), 'notes.db');
    const text = 'these are my notes, not a database\n'.repeat(200);
    writeFileSync(file, text);
    const error = await refusal(file);
    expect(error.code).toBe('ENOTDB');
    expect(error.message).toBe(
      `cannot open the database ${file}: it is not an SQLite database (file is not a database).`,
    );
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('a truncated database: ECORRUPT', async () => {
    const dir = tempDir();
    const good = join(dir, 'good.db');
    const db = await openDatabase(good);
    await db.prisma.experiment.create({ data: { name: 'e', tags: [], configVersion: 1, config: {} } });
    await db.close();
    const file = join(dir, 'truncated.db');
    copyFileSync(good, file);
    truncateSync(file, 5000);
    const error = await refusal(file);
    expect(error.code).toBe('ECORRUPT');
    expect(error.message).toMatch(
      /truncated\.db: the file is damaged or truncated \(database disk image is malformed\)\.$/,
    );
  });

  it('a second server on the same file: EINUSE at once, and the first keeps working', async () => {
    const file = join(tempDir(), 'lab.db');
    const first = await openDatabase(file);
    try {
      const error = await refusal(file);
      expect(error.code).toBe('EINUSE');
      expect(error.message).toBe(`cannot open the database ${file}: another iommu-lab server is using it.`);
      await first.prisma.experiment.create({ data: { name: 'e', tags: [], configVersion: 1, config: {} } });
    } finally {
      await first.close();
    }
    // Once the first has closed, a server may open it again.
    await (await openDatabase(file)).close();
  });

  it('a file migrated by a newer build: ENEWER naming the unknown migration, and nothing is written', async () => {
    const file = join(tempDir(), 'lab.db');
    await (await openDatabase(file)).close();
    const raw = new BetterSqlite3(file);
    raw
      .prepare(
        `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
         VALUES ('x', 'c', '20991231000000_from_the_future', 0, 0, 1)`,
      )
      .run();
    const before = raw.prepare('SELECT count(*) AS n FROM _prisma_migrations').get();
    raw.close();
    const error = await refusal(file);
    expect(error.code).toBe('ENEWER');
    expect(error.message).toBe(
      `cannot open the database ${file}: a newer iommu-lab wrote it (migration 20991231000000_from_the_future is unknown to this build); run a newer build or another file.`,
    );
    const after = new BetterSqlite3(file, { readonly: true });
    expect(after.prepare('SELECT count(*) AS n FROM _prisma_migrations').get()).toEqual(before);
    after.close();
  });
});
