/**
 * A failed run keeps what ended it (Run.stoppedBy): the emulator's rules (a livelock, a refusal), or the
 * machine (null). A study counts the first as answers and the second as a failure, so the column is set
 * by whoever ended the run, on either engine, and a database from before it is filled from the reasons'
 * words, where a full disk's "ENOSPC: the database cannot be written …" stays a failure of the machine.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openDatabase } from './index';
import { databaseBefore } from './testing/older-database';

async function withRuns(engine: 'local' | 'bullmq', count: number) {
  const db = await openDatabase(join(mkdtempSync(join(tmpdir(), 'iommu-lab-stopped-')), 'lab.db'));
  const experiment = await db.prisma.experiment.create({
    data: { name: 'e', tags: [], configVersion: 1, config: {} },
  });
  const runs: string[] = [];
  for (let i = 0; i < count; i++)
    runs.push(
      (await db.runs.create({ experimentId: experiment.id, seed: i, label: '', config: {}, engine })).id,
    );
  return { db, runs };
}

describe('what stopped a failed run', () => {
  it("the server's pool: a livelock keeps its metrics, a refusal its reason, a machine failure neither", async () => {
    const { db, runs } = await withRuns('local', 3);
    const [storm, refused, full] = runs as [string, string, string];
    for (const run of runs) await db.runs.start(run);
    await db.runs.end(storm, 'failed', 'livelock: page request queue overflow storm on vtd0 (PRQ)', {
      by: 'livelock',
      metrics: { lost: 300 },
    });
    await db.runs.end(refused, 'failed', 'ECONFIG: config /features/0: no such call', { by: 'refusal' });
    await db.runs.end(full, 'failed', 'ENOSPC: the database cannot be written, the disk is full');
    expect(await db.runs.find(storm)).toMatchObject({ stoppedBy: 'livelock', metrics: { lost: 300 } });
    expect(await db.runs.find(refused)).toMatchObject({ stoppedBy: 'refusal', metrics: null });
    expect(await db.runs.find(full)).toMatchObject({ status: 'failed', stoppedBy: null, metrics: null });
    await db.close();
  });

  it('the job queue: the attempt that ends the run says what stopped it', async () => {
    const { db, runs } = await withRuns('bullmq', 2);
    const [storm, lost] = runs as [string, string];
    for (const run of runs) await db.runs.begin(run, 1, 'w1');
    await db.runs.endAttempt(storm, 1, {
      status: 'failed',
      error: 'livelock: page request queue overflow storm on vtd0 (PRQ)',
      stop: { by: 'livelock', metrics: { lost: 300 } },
    });
    await db.runs.endAttempt(lost, 1, { status: 'failed', error: 'Redis went away' });
    expect(await db.runs.find(storm)).toMatchObject({ stoppedBy: 'livelock', metrics: { lost: 300 } });
    expect(await db.runs.find(lost)).toMatchObject({ stoppedBy: null });
    await db.close();
  });

  it('a database from before the column gets it from the reasons of its failed runs', async () => {
    const { file, left } = await databaseBefore(/_run_stopped_by$/, {
      device: 'dev0',
      address: '0x5000',
      access: 'r',
      kind: 'page-request',
      code: 'SUCCESS',
      outcome: 'resolved',
    });
    const raw = new BetterSqlite3(file);
    const insert = raw.prepare(
      `INSERT INTO runs (id, experiment_id, seed, config, status, error) VALUES (?, 'e', 1, '{}', ?, ?)`,
    );
    const old: [string, string, string | null][] = [
      [
        'storm',
        'failed',
        'livelock: page request queue overflow storm on vtd0 (PRQ); 4 of 9 transactions had ended.',
      ],
      [
        'refused',
        'failed',
        'ECONFIG: config /bindings/0: SVA is not enabled on nic0; enable the SVA feature first.',
      ],
      [
        'full',
        'failed',
        'ENOSPC: the database cannot be written, the disk is full (database or disk is full); 12 fault records of this run are on disk.',
      ],
      ['exited', 'failed', "the run's worker exited with code 1"],
      ['stopped', 'interrupted', 'ECONNRESET: the server stopped'],
      ['finished', 'done', null],
    ];
    for (const [id, status, error] of old) insert.run(id, status, error);
    raw.close();

    const db = await openDatabase(file);
    expect(db.migrated).toEqual([left]);
    const stopped = await db.prisma.run.findMany({
      select: { id: true, stoppedBy: true },
      orderBy: { id: 'asc' },
    });
    expect(Object.fromEntries(stopped.map((run) => [run.id, run.stoppedBy]))).toEqual({
      storm: 'livelock',
      refused: 'refusal',
      full: null,
      exited: null,
      stopped: null,
      finished: null,
      r: null,
    });
    await db.close();
  });
});
