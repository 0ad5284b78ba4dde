/**
 * Lost data is the worst bug: a server killed with SIGKILL during a run keeps every fault record it had
 * acknowledged (reported in the run resource), and the run is marked interrupted at the next start.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { call, startServer } from '../testing/harness';

const apiDir = fileURLToPath(new URL('../..', import.meta.url));

function startChild(databaseFile: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: apiDir,
    env: { ...process.env, PORT: '0', IOMMU_LAB_DB: databaseFile, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      const match = /listening on (http:\/\/[\d.:]+)/.exec(out);
      if (match) resolve({ child, url: match[1]! });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

describe('kill -9 during a run', () => {
  let child: ChildProcess | undefined;
  afterAll(() => void child?.kill('SIGKILL'));

  it('keeps every acknowledged fault record and marks the run interrupted at the next start', async () => {
    const databaseFile = join(mkdtempSync(join(tmpdir(), 'iommu-lab-crash-')), 'lab.db');
    const started = await startChild(databaseFile);
    child = started.child;
    const presets = (await call(started.url, 'GET', '/api/v1/presets')).body as {
      id: string;
      config: object;
      workload: { streams: { count: number }[] };
    }[];
    const preset = presets.find((p) => p.id === 'passthrough-map')!;
    preset.workload.streams[0]!.count = 50_000_000;
    const experiment = await call(started.url, 'POST', '/api/v1/experiments', {
      name: 'long',
      config: { version: 1, system: preset.config, workload: preset.workload, seed: 1 },
    });
    const run = await call(started.url, 'POST', `/api/v1/experiments/${experiment.body.id}/runs`, {});

    // Wait until the server has acknowledged a good number of records, then kill it outright.
    let acknowledged = 0;
    while (acknowledged < 30_000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const view = await call(started.url, 'GET', `/api/v1/runs/${run.body.id}`);
      expect(view.body.status).toBe('running');
      acknowledged = view.body.faultRecords as number;
    }
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    const restarted = await startServer({ databaseFile });
    try {
      const after = await call(restarted.url, 'GET', `/api/v1/runs/${run.body.id}`);
      expect(after.body.status).toBe('interrupted');
      expect(after.body.faultRecords).toBeGreaterThanOrEqual(acknowledged);
      // The count the server reported and the records on disk agree: no record counted that is not there.
      expect(restarted.app.db.faults.count(run.body.id)).toBe(after.body.faultRecords);
      const last = await call(
        restarted.url,
        'GET',
        `/api/v1/runs/${run.body.id}/faults?after=${acknowledged - 2}&limit=1`,
      );
      expect(last.body.records[0].seq).toBe(acknowledged - 1);
    } finally {
      await restarted.close();
    }
  });
});
