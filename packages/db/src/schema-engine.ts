/**
 * Prisma's own schema engine, compiled to WebAssembly, driven through the better-sqlite3 adapter: it makes
 * migrations (a diff between the migrations folder and schema.prisma), checks for drift, and applies
 * migrations exactly as `prisma migrate deploy` would (recording them in _prisma_migrations). The WASM
 * build is used because the CLI's native engine cannot be downloaded everywhere (see the package README).
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import {
  type SqlMigrationAwareDriverAdapterFactory,
  bindMigrationAwareSqlAdapterFactory,
} from '@prisma/driver-adapter-utils';

export const PRISMA_DIR = fileURLToPath(new URL('../../../prisma', import.meta.url));
export const SCHEMA_PATH = join(PRISMA_DIR, 'schema.prisma');
export const MIGRATIONS_DIR = join(PRISMA_DIR, 'migrations');

interface Glue {
  __wbg_set_wasm(exports: Record<string, unknown>): void;
  SchemaEngine: {
    new: (options: object, log: (message: string) => void, adapter: object) => Promise<SchemaEngine>;
  };
}

interface SchemaEngine {
  diff(params: object): Promise<{ exitCode: number; stdout: string }>;
  applyMigrations(input: object): Promise<{ appliedMigrationNames: string[] }>;
  free(): void;
}

/** The WebAssembly global (the Node type definitions used here do not declare it). */
const wasm = (
  globalThis as unknown as {
    WebAssembly: {
      instantiate(
        bytes: Uint8Array,
        imports: object,
      ): Promise<{ instance: { exports: Record<string, unknown> } }>;
    };
  }
).WebAssembly;

let glue: Promise<Glue> | undefined;

/** Instantiates the WASM module once per process (its entry imports .wasm as a module, which Node 20 cannot). */
function loadGlue(): Promise<Glue> {
  glue ??= (async () => {
    const require = createRequire(import.meta.url);
    const gluePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const module = (await import(gluePath)) as Glue & Record<string, unknown>;
    const bytes = readFileSync(join(dirname(gluePath), 'schema_engine_bg.wasm'));
    const { instance } = await wasm.instantiate(bytes, { './schema_engine_bg.js': module });
    module.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return module;
  })();
  return glue;
}

/** The migrations folder as the engine reads it. */
export function migrationsList(dir = MIGRATIONS_DIR) {
  const folders = existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort()
    : [];
  const lockPath = join(dir, 'migration_lock.toml');
  return {
    baseDir: dir,
    lockfile: {
      path: 'migration_lock.toml',
      content: existsSync(lockPath) ? readFileSync(lockPath, 'utf8') : null,
    },
    shadowDbInitScript: '',
    migrationDirectories: folders.map((folder) => ({
      path: folder,
      migrationFile: {
        path: 'migration.sql',
        content: { tag: 'ok', value: readFileSync(join(dir, folder, 'migration.sql'), 'utf8') },
      },
    })),
  };
}

const FILTERS = { externalTables: [], externalEnums: [] };

async function withEngine<T>(url: string, work: (engine: SchemaEngine) => Promise<T>): Promise<T> {
  const { SchemaEngine } = await loadGlue();
  const schema = readFileSync(SCHEMA_PATH, 'utf8');
  // The engine does not close the connections it opens; keep them, to close them when it is done (an open
  // one would hold the file's lock against the server's own connections).
  const factory = new PrismaBetterSqlite3({ url });
  const opened: { dispose(): Promise<void> }[] = [];
  const track = async <T extends { dispose(): Promise<void> }>(connection: Promise<T>) => {
    opened.push(await connection);
    return opened.at(-1) as T;
  };
  const tracked: SqlMigrationAwareDriverAdapterFactory = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: () => track(factory.connect()),
    connectToShadowDb: () => track(factory.connectToShadowDb()),
  };
  const adapter = bindMigrationAwareSqlAdapterFactory(tracked);
  const engine = await SchemaEngine.new({ datamodels: [['schema.prisma', schema]] }, () => {}, adapter);
  try {
    return await work(engine);
  } finally {
    engine.free();
    for (const connection of opened) await connection.dispose();
  }
}

/** Applies the migrations not yet applied to the database at `file` (creating it); returns their names. */
export async function applyMigrations(file: string, dir = MIGRATIONS_DIR): Promise<string[]> {
  return withEngine(`file:${file}`, async (engine) => {
    const { appliedMigrationNames } = await engine.applyMigrations({
      migrationsList: migrationsList(dir),
      filters: FILTERS,
    });
    return appliedMigrationNames;
  });
}

/**
 * The SQL that takes a database built by the migrations to what schema.prisma describes; empty when they
 * agree (the drift check). The migrations are applied to a scratch file, which is then compared with the
 * schema (the engine's own shadow-database path does not work through this adapter).
 */
export async function pendingSchemaChange(dir = MIGRATIONS_DIR): Promise<string> {
  const scratch = join(mkdtempSync(join(tmpdir(), 'iommu-lab-drift-')), 'scratch.db');
  try {
    await applyMigrations(scratch, dir);
    return await withEngine(`file:${scratch}`, async (engine) => {
      const schema = { path: SCHEMA_PATH, content: readFileSync(SCHEMA_PATH, 'utf8') };
      const result = await engine.diff({
        from: { tag: 'schemaDatasource', files: [schema], configDir: PRISMA_DIR },
        to: { tag: 'schemaDatamodel', files: [schema] },
        script: true,
        exitCode: true,
        filters: FILTERS,
      });
      return result.exitCode === 2 ? result.stdout : '';
    });
  } finally {
    rmSync(dirname(scratch), { recursive: true, force: true });
  }
}
