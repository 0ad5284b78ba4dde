/**
 * Runs on the job queue are taken in numbered attempts (issue 15): a retry resumes an interrupted run at
 * the records on disk, only the current attempt writes the run, and a batch delivered twice, or replayed
 * by a resumed attempt, writes no record twice.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunStateError, StaleAttemptError, openDatabase } from './index';
import { testRow } from './testing/fault-rows';

const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => testRow(from + i));
const progress = (transactions: number) => ({
  transactions,
  totalTransactions: 100,
  simulatedNs: transactions,
});

async function queuedRun() {
  const db = await openDatabase(join(mkdtempSync(join(tmpdir(), 'iommu-lab-attempts-')), 'lab.db'));
  const experiment = await db.prisma.experiment.create({
    data: { name: 'e', tags: [], configVersion: 1, config: {} },
  });
  const run = await db.runs.create({
    experimentId: experiment.id,
    seed: 1,
    label: '',
    config: {},
    engine: 'bullmq',
  });
  return { db, run: run.id };
}

const seqs = (db: Awaited<ReturnType<typeof queuedRun>>['db'], run: string) =>
  db.faults.page(run, -1, 10_000).map((record) => record.seq);

describe('attempts of a queued run', () => {
  it('attempt 1 starts it; a batch delivered twice, or overlapping, writes each record once', async () => {
    const { db, run } = await queuedRun();
    expect(await db.runs.begin(run, 1, 'w1')).toBe(0);
    expect(db.faults.appendAttempt(run, 1, rows(0, 10), progress(10))).toBe(10);
    expect(db.faults.appendAttempt(run, 1, rows(0, 10), progress(10))).toBe(0);
    expect(db.faults.appendAttempt(run, 1, rows(5, 15), progress(15))).toBe(5);
    expect(seqs(db, run)).toEqual([...Array(15).keys()]);
    expect(await db.runs.find(run)).toMatchObject({
      status: 'running',
      faultRecords: 15,
      worker: 'w1',
      attempt: 1,
    });
    // A hole (rows 20… after 15) is refused and writes nothing.
    expect(() => db.faults.appendAttempt(run, 1, rows(20, 25), progress(25))).toThrow(
      `run "${run}" has 15 fault records; a batch starting at seq 20 would leave a hole`,
    );
    expect(seqs(db, run)).toHaveLength(15);
    await db.close();
  });

  it('a lost attempt leaves the run interrupted with its records; the next resumes it where they end', async () => {
    const { db, run } = await queuedRun();
    await db.runs.begin(run, 1, 'w1');
    db.faults.appendAttempt(run, 1, rows(0, 7), progress(7));
    await db.runs.endAttempt(run, 1, { status: 'lost', error: 'w1 was lost' });
    expect(await db.runs.find(run)).toMatchObject({
      status: 'interrupted',
      error: 'w1 was lost',
      faultRecords: 7,
    });
    // The lost worker's late batch is refused: only the current attempt writes.
    expect(() => db.faults.appendAttempt(run, 1, rows(7, 9), progress(9))).toThrow(StaleAttemptError);

    expect(await db.runs.begin(run, 2, 'w2')).toBe(7);
    // The resumed attempt replays from the start (deterministic); what is on disk is skipped.
    expect(db.faults.appendAttempt(run, 2, rows(0, 12), progress(12))).toBe(5);
    await db.runs.endAttempt(run, 2, { status: 'done', results: { metrics: {}, histograms: {} } });
    const done = (await db.runs.find(run))!;
    expect(done).toMatchObject({ status: 'done', error: null, worker: 'w2', attempt: 2, faultRecords: 12 });
    expect(done.attempts).toMatchObject([
      { attempt: 1, worker: 'w1', recordsAtStart: 0, end: 'lost', reason: 'w1 was lost' },
      { attempt: 2, worker: 'w2', recordsAtStart: 7, end: 'done', reason: null },
    ]);
    expect(seqs(db, run)).toEqual([...Array(12).keys()]);
    await db.close();
  });

  it('a later attempt takes over a run still running under an earlier one; older attempts and ended runs are refused', async () => {
    const { db, run } = await queuedRun();
    await db.runs.begin(run, 1, 'w1');
    expect(await db.runs.begin(run, 3, 'w2')).toBe(0);
    await expect(db.runs.begin(run, 2, 'w3')).rejects.toBeInstanceOf(StaleAttemptError);
    await expect(db.runs.endAttempt(run, 1, { status: 'failed', error: 'late' })).rejects.toBeInstanceOf(
      StaleAttemptError,
    );
    expect((await db.runs.find(run))!.attempts).toMatchObject([
      { attempt: 1, end: 'lost', reason: 'attempt 3 on w2 took the run over' },
      { attempt: 3, end: null },
    ]);
    await db.runs.endAttempt(run, 3, { status: 'failed', error: 'a livelock' });
    await expect(db.runs.begin(run, 4, 'w1')).rejects.toBeInstanceOf(RunStateError);
    await db.close();
  });

  it('a refusal is kept in the attempts and leaves the run queued; the local pool’s start takes only a queued run', async () => {
    const { db, run } = await queuedRun();
    await db.runs.refused(run, 1, 'old', 'versions differ');
    expect(await db.runs.find(run)).toMatchObject({
      status: 'queued',
      attempts: [{ attempt: 1, end: 'refused' }],
    });
    await db.runs.end(run, 'interrupted', 'the server stopped');
    await expect(db.runs.start(run)).rejects.toBeInstanceOf(RunStateError);
    await db.close();
  });
});
