/**
 * A database file as the build before a migration left it: every migration but the one whose folder name
 * matches, applied, and one run with one fault record written the old way. Tests open it to check that the
 * migration runs at open and what old rows read back as.
 */
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { MIGRATIONS_DIR, applyMigrations } from '../index';

export interface OldFault {
  device: string;
  address: string;
  access: string;
  kind: string;
  code: string;
  outcome: string;
}

/** The file, with run 'r' holding fault seq 0, and the name of the migration left out. */
export async function databaseBefore(
  migration: RegExp,
  fault: OldFault,
): Promise<{ file: string; left: string }> {
  const file = join(mkdtempSync(join(tmpdir(), 'iommu-lab-older-')), 'lab.db');
  const older = mkdtempSync(join(tmpdir(), 'iommu-lab-migrations-'));
  cpSync(MIGRATIONS_DIR, older, { recursive: true });
  const matching = readdirSync(older).filter((folder) => migration.test(folder));
  if (matching.length !== 1) throw new Error(`${matching.length} migrations match ${migration}`);
  rmSync(join(older, matching[0]!), { recursive: true });
  await applyMigrations(file, older);
  const raw = new BetterSqlite3(file);
  raw
    .prepare(
      `INSERT INTO experiments (id, name, tags, config_version, config, updated_at)
       VALUES ('e', 'e', '[]', 1, '{}', CURRENT_TIMESTAMP)`,
    )
    .run();
  raw.prepare(`INSERT INTO runs (id, experiment_id, seed, config) VALUES ('r', 'e', 1, '{}')`).run();
  raw
    .prepare(
      `INSERT INTO fault_records (run_id, seq, time_ns, device, address, access, kind, code, flow, outcome)
       VALUES ('r', 0, 0, ?, ?, ?, ?, ?, 1, ?)`,
    )
    .run(fault.device, fault.address, fault.access, fault.kind, fault.code, fault.outcome);
  raw.close();
  return { file, left: matching[0]! };
}
