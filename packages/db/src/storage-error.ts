/**
 * What went wrong with the database file, in the terms a person acts on: full, read-only, an I/O error,
 * damaged, busy. SQLite reports these as result codes (better-sqlite3's `SqliteError.code`, e.g.
 * `SQLITE_FULL`, `SQLITE_IOERR_WRITE`); through Prisma's driver adapter only the message survives, so
 * both are read.
 */
export type StorageCode = 'ENOSPC' | 'EROFS' | 'EIO' | 'ECORRUPT' | 'ENOTDB' | 'EBUSY' | 'ECANTOPEN';

export interface StorageFailure {
  code: StorageCode;
  /** SQLite's own words (e.g. "database or disk is full"). */
  detail: string;
  /** What it means for the file, as the end of a sentence. */
  meaning: string;
}

const KINDS: { code: StorageCode; sqlite: RegExp; message: RegExp; meaning: string }[] = [
  {
    code: 'ENOSPC',
    sqlite: /^SQLITE_FULL/,
    message: /database or disk is full/i,
    meaning: 'the disk (or the database size limit) is full',
  },
  {
    code: 'EROFS',
    sqlite: /^SQLITE_READONLY/,
    message: /attempt to write a readonly database|readonly database/i,
    meaning: 'the file cannot be written (read-only)',
  },
  {
    code: 'EIO',
    sqlite: /^SQLITE_IOERR/,
    message: /disk I\/O error/i,
    meaning: 'the disk failed to read or write',
  },
  {
    code: 'ENOTDB',
    sqlite: /^SQLITE_NOTADB/,
    message: /file is not a database/i,
    meaning: 'it is not an SQLite database',
  },
  {
    code: 'ECORRUPT',
    sqlite: /^SQLITE_CORRUPT/,
    message: /database disk image is malformed|malformed|corrupt/i,
    meaning: 'the file is damaged or truncated',
  },
  {
    code: 'EBUSY',
    sqlite: /^SQLITE_(BUSY|LOCKED)/,
    message: /database (table )?is locked|SocketTimeout/i,
    meaning: 'another process holds the file locked',
  },
  {
    code: 'ECANTOPEN',
    sqlite: /^SQLITE_CANTOPEN/,
    message: /unable to open database file/i,
    meaning: 'the file cannot be created or opened there',
  },
];

/** The storage failure behind `error`, or undefined when it is not one (a bug, a constraint, …). */
export function storageFailure(error: unknown): StorageFailure | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  for (const kind of KINDS) {
    const words = kind.message.exec(message);
    if (!words && !(typeof code === 'string' && kind.sqlite.test(code))) continue;
    // Prisma wraps SQLite's words in its own lines: those words alone, else the message's first line.
    const detail =
      words?.[0] ??
      message
        .split('\n')
        .find((line) => line.trim() !== '')!
        .trim();
    return { code: kind.code, detail, meaning: kind.meaning };
  }
  return undefined;
}
