/**
 * Opening the lab's database: the file is created and migrated on first use (no extra command), runs left
 * `running` or `queued` by a crash are marked interrupted, and two connections share it in WAL mode:
 * Prisma's (experiments, runs) and a raw better-sqlite3 one for the high-rate fault log.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from './generated/prisma/client';
import { FaultLog } from './fault-log';
import { applyMigrations } from './schema-engine';

export interface Database {
  readonly file: string;
  readonly prisma: PrismaClient;
  readonly faults: FaultLog;
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

export interface OpenOptions {
  /** Mark runs left running or queued as interrupted (the server does; extra queue workers must not). */
  recover?: boolean;
}

export async function openDatabase(
  path: string = DEFAULT_DATABASE_FILE,
  { recover = true }: OpenOptions = {},
): Promise<Database> {
  const file = resolve(path);
  mkdirSync(dirname(file), { recursive: true });
  const migrated = await applyMigrations(file);
  // The raw connection: WAL (persistent in the file) so readers never wait for the log writer, and a full
  // sync at each commit, so a batch the API has acknowledged survives a crash.
  const raw = new BetterSqlite3(file, { timeout: 5000 });
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  raw.pragma('foreign_keys = ON');

  const prisma = new PrismaClient({
    adapter: new PrismaBetterSqlite3({ url: `file:${file}`, timeout: 5000 }),
  });
  const unfinished = { status: { in: ['running', 'queued'] } };
  const stale = recover ? await prisma.run.findMany({ where: unfinished, select: { id: true } }) : [];
  if (recover)
    await prisma.run.updateMany({
      where: unfinished,
      data: { status: 'interrupted', error: 'the server stopped during the run', finishedAt: new Date() },
    });

  return {
    file,
    prisma,
    faults: new FaultLog(raw),
    migrated,
    interrupted: stale.map((run) => run.id),
    async close() {
      await prisma.$disconnect();
      raw.close();
    },
  };
}
