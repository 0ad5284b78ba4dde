/**
 * Opening the lab's database: the file is created and migrated on first use (no extra command), runs left
 * `running` or `queued` by a crash are marked interrupted, and two connections share it in WAL mode:
 * Prisma's (experiments, runs) and a raw better-sqlite3 one for the high-rate fault log.
 *
 * Every reason the file cannot be used (its folder cannot be written, it is not a database, it is damaged,
 * another server has it, a newer build wrote it) is a DatabaseOpenError: a code, the file, one sentence.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from './generated/prisma/client';
import { FaultLog } from './fault-log';
import { RunStore } from './run-store';
import { applyMigrations, migrationsList } from './schema-engine';
import { type StorageCode, storageFailure } from './storage-error';

export interface Database {
  readonly file: string;
  readonly prisma: PrismaClient;
  readonly faults: FaultLog;
  /** Every change of a run's status goes through here. */
  readonly runs: RunStore;
  /** Migrations applied when this database was opened. */
  readonly migrated: string[];
  /** Runs found running or queued at open (a crash or kill), now marked interrupted. */
  readonly interrupted: string[];
  close(): Promise<void>;
}

export const DEFAULT_DATABASE_FILE = 'data/iommu-lab.db';

/** IOMMU_LAB_DB, else ./data of the directory npm was run from (the repository root for `npm start`). */
export function databaseFileFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.IOMMU_LAB_DB ?? join(env.INIT_CWD ?? process.cwd(), DEFAULT_DATABASE_FILE);
}

export type DatabaseOpenCode = StorageCode | 'EACCES' | 'EINUSE' | 'ENEWER' | 'EMIGRATE';

/** The database cannot be used; `message` is one sentence naming the file and the cause. */
export class DatabaseOpenError extends Error {
  constructor(
    readonly code: DatabaseOpenCode,
    readonly file: string,
    cause: string,
  ) {
    super(`cannot open the database ${file}: ${cause}.`);
  }
}

/**
 * The server is the only process that opens the file (queue workers send their results through Redis):
 * it holds the file against a second server, and marks its own pool's runs left running or queued as
 * interrupted.
 */
export interface OpenOptions {
  /** A size limit for the file (SQLite's max_page_count on both connections): writes past it are ENOSPC. */
  maxBytes?: number;
}

export async function openDatabase(
  path: string = DEFAULT_DATABASE_FILE,
  { maxBytes }: OpenOptions = {},
): Promise<Database> {
  const file = resolve(path);
  const opened: { close(): unknown }[] = [];
  try {
    try {
      mkdirSync(dirname(file), { recursive: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new DatabaseOpenError('EACCES', file, `its folder cannot be created (${code})`);
    }
    const lock = holdServerLock(file);
    opened.push(lock);
    // SQLite's own words for a file it cannot use, before the schema engine (which has none) reads it.
    const probe = new BetterSqlite3(file, { timeout: 5000 });
    let pending: boolean;
    try {
      probe.pragma('journal_mode = WAL');
      // A write that changes nothing: a file that cannot be written says so here, in SQLite's words.
      probe.pragma(`user_version = ${probe.pragma('user_version', { simple: true }) as number}`);
      pending = migrationsToApply(probe, file);
    } finally {
      probe.close();
    }
    // The engine cannot work beside another open connection (the server's, when a queue worker opens the
    // file): it is started only when there is something to apply.
    const migrated = pending ? await applyMigrations(file) : [];
    // The raw connection: WAL (persistent in the file) so readers never wait for the log writer, and a
    // full sync at each commit, so a batch the API has acknowledged survives a crash.
    const raw = new BetterSqlite3(file, { timeout: 5000 });
    opened.push(raw);
    raw.pragma('synchronous = FULL');
    raw.pragma('foreign_keys = ON');
    const pageSize = raw.pragma('page_size', { simple: true }) as number;
    const maxPages = maxBytes === undefined ? undefined : Math.max(1, Math.floor(maxBytes / pageSize));
    if (maxPages !== undefined) raw.pragma(`max_page_count = ${maxPages}`);

    const prisma = new PrismaClient({
      adapter: new PrismaBetterSqlite3({ url: `file:${file}`, timeout: 5000 }),
    });
    opened.push({ close: () => prisma.$disconnect() });
    // The adapter keeps one connection per client, so the limit set here holds for every Prisma write.
    if (maxPages !== undefined) await prisma.$queryRawUnsafe(`PRAGMA max_page_count = ${maxPages}`);
    const runs = new RunStore(prisma);
    const interrupted = await runs.interruptUnfinished('the server stopped during the run');
    return {
      file,
      prisma,
      faults: new FaultLog(raw),
      runs,
      migrated,
      interrupted,
      async close() {
        await runs.close();
        await prisma.$disconnect();
        raw.close();
        lock.close();
      },
    };
  } catch (error) {
    for (const connection of opened.reverse()) await connection.close();
    throw asOpenError(error, file);
  }
}

/**
 * Two servers on one file would each mark the other's runs interrupted. The server holds an exclusive
 * SQLite lock on a file beside the database for as long as it runs; the OS drops it if the process dies.
 */
function holdServerLock(file: string): { close(): unknown } {
  const lock = new BetterSqlite3(`${file}-lock`, { timeout: 0 });
  try {
    lock.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    lock.close();
    if (storageFailure(error)?.code === 'EBUSY')
      throw new DatabaseOpenError('EINUSE', file, 'another iommu-lab server is using it');
    throw error;
  }
  return lock;
}

/**
 * Whether the file lacks migrations this build has. A file migrated by a newer build has tables this one
 * does not know, and writing to it could damage it: refused.
 */
function migrationsToApply(raw: BetterSqlite3.Database, file: string): boolean {
  const known = migrationsList().migrationDirectories.map((folder) => folder.path);
  const table = raw
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'")
    .get();
  if (!table) return known.length > 0;
  const applied = new Set(
    (
      raw
        .prepare(
          'SELECT migration_name AS name FROM _prisma_migrations WHERE rolled_back_at IS NULL AND finished_at IS NOT NULL',
        )
        .all() as { name: string }[]
    ).map((migration) => migration.name),
  );
  const unknown = [...applied].filter((name) => !known.includes(name));
  if (unknown.length > 0)
    throw new DatabaseOpenError(
      'ENEWER',
      file,
      `a newer iommu-lab wrote it (migration ${unknown.join(', ')} is unknown to this build); run a newer build or another file`,
    );
  return known.some((name) => !applied.has(name));
}

function asOpenError(error: unknown, file: string): DatabaseOpenError {
  if (error instanceof DatabaseOpenError) return error;
  const failure = storageFailure(error);
  if (failure) return new DatabaseOpenError(failure.code, file, `${failure.meaning} (${failure.detail})`);
  // The WASM schema engine reports a file it cannot create only as "External error id#0".
  const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  return new DatabaseOpenError('EMIGRATE', file, `its migrations could not be applied (${message})`);
}
