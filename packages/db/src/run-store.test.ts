import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunStateError, openDatabase, storageFailure } from './index';
import { testRow } from './testing/fault-rows';

const tempFile = () => join(mkdtempSync(join(tmpdir(), 'iommu-lab-store-')), 'lab.db');
const row = (seq: number) => testRow(seq);

async function withRun(options: { maxBytes?: number } = {}) {
  const db = await openDatabase(tempFile(), options);
  const experiment = await db.prisma.experiment.create({
    data: { name: 'e', tags: [], configVersion: 1, config: {} },
  });
  const run = await db.runs.create({ experimentId: experiment.id, seed: 1, label: '', config: {} });
  return { db, run: run.id };
}

describe('the run store: queued → running → done | failed | interrupted, nothing else', () => {
  it('moves a run forward and refuses to move an ended one', async () => {
    const { db, run } = await withRun();
    await expect(db.runs.finish(run, { metrics: {}, histograms: {} })).rejects.toThrow(
      `run "${run}" is queued; it cannot become done.`,
    );
    await db.runs.start(run);
    await expect(db.runs.start(run)).rejects.toBeInstanceOf(RunStateError);
    await db.runs.finish(run, { metrics: { a: 1 }, histograms: {} });
    expect(await db.runs.end(run, 'failed', 'late').catch((error: RunStateError) => error.message)).toBe(
      `run "${run}" is done; it cannot become failed.`,
    );
    expect(await db.runs.find(run)).toMatchObject({ status: 'done', progress: 1, error: null });
    await expect(db.runs.start('nothing')).rejects.toThrow('no run "nothing" to mark running.');
    await db.close();
  });

  it('a queued run can end without starting (shutdown), and an ended run stays ended', async () => {
    const { db, run } = await withRun();
    expect(await db.runs.end(run, 'interrupted', 'the server stopped')).toBe(true);
    await expect(db.runs.start(run)).rejects.toBeInstanceOf(RunStateError);
    expect(await db.runs.find(run)).toMatchObject({ status: 'interrupted', error: 'the server stopped' });
    await db.close();
  });
});

describe('a database that is full', () => {
  it('a batch that does not fit is ENOSPC and leaves every earlier record and the count as they were', async () => {
    const { db, run } = await withRun({ maxBytes: 256 * 1024 });
    let written = 0;
    let failure: unknown;
    for (let batch = 0; !failure; batch++) {
      const rows = Array.from({ length: 500 }, (_, i) => row(batch * 500 + i));
      try {
        db.faults.append(run, rows);
        written += rows.length;
      } catch (error) {
        failure = error;
      }
    }
    expect(storageFailure(failure)).toEqual({
      code: 'ENOSPC',
      detail: 'database or disk is full',
      meaning: 'the disk (or the database size limit) is full',
    });
    expect(written).toBeGreaterThan(0);
    expect(db.faults.count(run)).toBe(written);
    expect((await db.prisma.run.findUniqueOrThrow({ where: { id: run } })).faultRecords).toBe(written);
    await db.close();
  });

  it('an end that cannot be written is kept and served, then written once there is room', async () => {
    const { db, run } = await withRun({ maxBytes: 256 * 1024 });
    await db.runs.start(run);
    // Fill the file to its last page, then make the run's row need a page of its own to end.
    for (let seq = 0; ; seq += 500) {
      try {
        db.faults.append(
          run,
          Array.from({ length: 500 }, (_, i) => row(seq + i)),
        );
      } catch {
        break;
      }
    }
    for (let seq = 1_000_000; ; seq++) {
      try {
        db.faults.append(run, [row(seq)]);
      } catch {
        break;
      }
    }
    const reason = `ENOSPC: ${'the disk is full; '.repeat(300)}`;
    expect(await db.runs.end(run, 'failed', reason)).toBe(false);
    expect((await db.prisma.run.findUniqueOrThrow({ where: { id: run } })).status).toBe('running');
    expect(await db.runs.find(run)).toMatchObject({ status: 'failed', error: reason });
    // Still full: still waiting.
    expect(await db.runs.flush()).toBe(1);
    await db.prisma.$executeRawUnsafe('DELETE FROM fault_records WHERE seq < 2000');
    expect(await db.runs.flush()).toBe(0);
    expect(await db.prisma.run.findUniqueOrThrow({ where: { id: run } })).toMatchObject({
      status: 'failed',
      error: reason,
    });
    await db.close();
  });
});
