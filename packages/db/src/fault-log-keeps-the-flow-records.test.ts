/**
 * The fault log's `records` column: a flow's byte-exact records as JSON text of [layout id, hex] pairs,
 * stored as the row gives it and read back unchanged in pages and downloads ("[]" for a flow without
 * records). A database written before the column gains it when opened, and its old records read back null.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAULT_COLUMNS, openDatabase } from './index';
import { testRow } from './testing/fault-rows';
import { databaseBefore } from './testing/older-database';

const RECORDS_MIGRATION = /_fault_flow_records$/;
const tempFile = () => join(mkdtempSync(join(tmpdir(), 'iommu-lab-records-')), 'lab.db');

// Real layout ids over made-up bytes: the log stores the text as given (the API decodes it).
const PRI_RECORDS = JSON.stringify([
  ['pcie.page-request', '0400001000000001'.repeat(2)],
  ['vtd.page-request-descriptor', '8100000001000000'.repeat(4)],
]);
const FRCD_RECORDS = JSON.stringify([['vtd.fault-record', '00507f0000000000790000000000c080']]);

describe('the fault log keeps the flow records', () => {
  it('stores the text each row gives and reads it back in pages and downloads, [] and null included', async () => {
    const db = await openDatabase(tempFile());
    const experiment = await db.prisma.experiment.create({
      data: { name: 'e', tags: [], configVersion: 1, config: { version: 1 } },
    });
    const { id: run } = await db.prisma.run.create({
      data: { experimentId: experiment.id, seed: 1, config: {} },
    });
    const written = [PRI_RECORDS, FRCD_RECORDS, '[]', null];
    // More rows than one multi-row INSERT takes, so both INSERTs carry the column.
    const rows = Array.from({ length: 70 }, (_, seq) => testRow(seq, { records: written[seq % 4]! }));
    db.faults.append(run, rows);
    const expected = rows.map((_, seq) => written[seq % 4]);
    expect(db.faults.page(run, -1, 100).map((record) => record.records)).toEqual(expected);
    expect([...db.faults.iterate(run)].map((record) => record.records)).toEqual(expected);
    expect(db.faults.page(run, 3, 2).map(({ seq, records }) => ({ seq, records }))).toEqual([
      { seq: 4, records: PRI_RECORDS },
      { seq: 5, records: FRCD_RECORDS },
    ]);
    // Appended last: the earlier columns of a CSV keep their positions.
    expect(FAULT_COLUMNS.at(-1)).toBe('records');
    await db.close();
  });

  it('a database from before the column is migrated at open; its records read back null', async () => {
    const { file, left } = await databaseBefore(RECORDS_MIGRATION, {
      device: 'nic0',
      address: '0x1000',
      access: 'r',
      kind: 'page-request',
      code: 'SUCCESS',
      outcome: 'resumed',
    });

    const db = await openDatabase(file);
    expect(db.migrated).toEqual([left]);
    db.faults.append('r', [testRow(1, { records: PRI_RECORDS })]);
    expect(db.faults.page('r', -1, 10).map(({ seq, records }) => ({ seq, records }))).toEqual([
      { seq: 0, records: null },
      { seq: 1, records: PRI_RECORDS },
    ]);
    const downloaded = [...db.faults.iterate('r')];
    expect(downloaded[0]).toMatchObject({ code: 'SUCCESS', records: null });
    expect(Object.keys(downloaded[0]!)).toEqual(FAULT_COLUMNS);
    await db.close();
  });
});
