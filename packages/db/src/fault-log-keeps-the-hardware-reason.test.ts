/**
 * The fault log's `reason` column (issue 12, kernel detail): an unrecoverable fault's code as its hardware
 * recorded it, in hex, kept beside `code` (its name); null for other faults. A database written before
 * the column gains it when opened, and its old records read back with a null reason.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAULT_COLUMNS, openDatabase } from './index';
import { testRow } from './testing/fault-rows';
import { databaseBefore } from './testing/older-database';

const REASON_MIGRATION = /_fault_reason$/;
const tempFile = () => join(mkdtempSync(join(tmpdir(), 'iommu-lab-reason-')), 'lab.db');

const unrecoverable = (seq: number, reason: string | null, code: string) =>
  testRow(seq, { kind: 'unrecoverable', category: null, code, reason, outcome: 'recorded', latencyNs: null });

describe('the fault log keeps the hardware reason', () => {
  it('stores it beside its name, reads it back in pages and downloads, and filters by it', async () => {
    const db = await openDatabase(tempFile());
    const experiment = await db.prisma.experiment.create({
      data: { name: 'e', tags: [], configVersion: 1, config: { version: 1 } },
    });
    const { id: run } = await db.prisma.run.create({
      data: { experimentId: experiment.id, seed: 1, config: {} },
    });
    db.faults.append(run, [
      testRow(0),
      unrecoverable(1, '0x10', 'F_TRANSLATION'),
      unrecoverable(2, '0x79', 'SM: Read/Write permission error in second-level paging entry'),
      unrecoverable(3, null, 'STE.Config abort (no event recorded)'),
    ]);
    const reasons = db.faults.page(run, -1, 10).map(({ code, reason }) => ({ code, reason }));
    expect(reasons).toEqual([
      { code: 'SUCCESS', reason: null },
      { code: 'F_TRANSLATION', reason: '0x10' },
      { code: 'SM: Read/Write permission error in second-level paging entry', reason: '0x79' },
      { code: 'STE.Config abort (no event recorded)', reason: null },
    ]);
    expect([...db.faults.iterate(run)].map((record) => record.reason)).toEqual([null, '0x10', '0x79', null]);
    expect(db.faults.page(run, -1, 10, { reason: '0x79' }).map((record) => record.seq)).toEqual([2]);
    expect(db.faults.count(run, { reason: '0x10', kind: 'unrecoverable' })).toBe(1);
    // Appended after the columns it found: the earlier columns of a CSV keep their positions.
    expect(FAULT_COLUMNS.indexOf('reason')).toBe(FAULT_COLUMNS.indexOf('handlerGuestNs') + 1);
    await db.close();
  });

  it('a database from before the column is migrated at open; its records read back with a null reason', async () => {
    const { file, left } = await databaseBefore(REASON_MIGRATION, {
      device: 'dev0',
      address: '0x5000',
      access: 'w',
      kind: 'unrecoverable',
      code: 'F_TRANSLATION',
      outcome: 'recorded',
    });

    const db = await openDatabase(file);
    expect(db.migrated).toEqual([left]);
    db.faults.append('r', [unrecoverable(1, '0x10', 'F_TRANSLATION')]);
    expect(db.faults.page('r', -1, 10).map(({ seq, reason }) => ({ seq, reason }))).toEqual([
      { seq: 0, reason: null },
      { seq: 1, reason: '0x10' },
    ]);
    const downloaded = [...db.faults.iterate('r')];
    expect(downloaded[0]).toMatchObject({ code: 'F_TRANSLATION', reason: null });
    expect(Object.keys(downloaded[0]!)).toEqual(FAULT_COLUMNS);
    await db.close();
  });
});
