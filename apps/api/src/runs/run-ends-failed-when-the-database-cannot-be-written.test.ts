/**
 * A database that cannot be written (full, or failing its writes) ends the run it hit as failed, with a
 * reason that says how many of its records are on disk; every acknowledged record stays, and the server,
 * its websockets and its live labs go on. Real SQLite files: a size limit (SQLite's max_page_count) and a
 * 2 MiB tmpfs for the full disk, an immutable WAL file (chattr +i) for the I/O error.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { faultRowOf } from '@iommu-lab/db';
import { type Running, StreamClient, call, startServer, wsUrl } from '../testing/harness';

const API = '/api/v1';

async function longExperiment(server: Running): Promise<string> {
  const presets = (await call(server.url, 'GET', `${API}/presets`)).body as {
    id: string;
    config: object;
    workload: { streams: { count: number }[] };
  }[];
  const preset = presets.find((p) => p.id === 'passthrough-map')!;
  preset.workload.streams[0]!.count = 50_000_000;
  const created = await call(server.url, 'POST', `${API}/experiments`, {
    name: 'fault-heavy',
    config: { version: 1, system: preset.config, workload: preset.workload, seed: 1 },
  });
  expect(created.status).toBe(201);
  return created.body.id as string;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits for `run` to end; it must have failed as on a full disk. Its view, and the count its reason gives. */
async function fullDiskFailure(server: Running, run: string) {
  const failed = await until('the run to fail', async () => {
    const view = (await call(server.url, 'GET', `${API}/runs/${run}`)).body;
    return view.status === 'running' || view.status === 'queued' ? undefined : view;
  });
  expect(failed.status).toBe('failed');
  // The machine failed it, not the emulator's rules: in a study it is a failure, not an answer.
  expect(failed.stoppedBy).toBe(null);
  const [, onDisk] =
    /^ENOSPC: .*database or disk is full.*; (\d+) fault records of this run are on disk\.$/.exec(
      failed.error,
    )!;
  return { failed, onDisk: onDisk! };
}

/** A live lab with its websocket open: it must outlive the run's failure. */
async function liveLab(server: Running) {
  const lab = (await call(server.url, 'POST', `${API}/labs`, { preset: 'sva-pri-vtd' })).body.id as string;
  const stream = await StreamClient.open(wsUrl(server.url, `${API}/labs/${lab}/stream`));
  return { lab, stream };
}

async function expectLabStillWorks(server: Running, lab: string, stream: StreamClient) {
  expect((await call(server.url, 'GET', '/healthz')).body.status).toBe('ok');
  const before = stream.events().length;
  const dma = await call(server.url, 'POST', `${API}/labs/${lab}/dma`, {
    device: 'nic0',
    pasid: 1,
    address: '0x7f0000000000',
    length: 4096,
    access: 'read',
  });
  expect(dma.status, JSON.stringify(dma.body)).toBe(200);
  await stream.until(() => stream.events().length > before);
}

let server: Running | undefined;
const frozen: string[] = [];
const mounted: string[] = [];
afterEach(async () => {
  for (const path of frozen.splice(0)) execFileSync('chattr', ['-i', path]);
  await server?.close();
  server = undefined;
  for (const path of mounted.splice(0)) execFileSync('umount', [path]);
});

/** A 2 MiB tmpfs, where mounting is allowed (root with CAP_SYS_ADMIN). */
function smallDisk(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'iommu-lab-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  mounted.push(dir);
  return dir;
}

describe('a run on a database that cannot be written', () => {
  it('full (SQLITE_FULL): the run fails with ENOSPC and its count on disk; the server, its labs and new runs go on', async () => {
    // A PRI flow's row is about 0.7 KB with its records (0.2 KB without): room for a couple of batches.
    server = await startServer({ databaseMaxBytes: 16 * 1024 * 1024 });
    const { lab, stream } = await liveLab(server);
    const experiment = await longExperiment(server);
    const run = (await call(server.url, 'POST', `${API}/experiments/${experiment}/runs`, {})).body.id;
    const { failed, onDisk } = await fullDiskFailure(server, run);
    // Every acknowledged record is there, and nothing else.
    expect(Number(onDisk)).toBeGreaterThan(0);
    expect(server.app.db.faults.count(run)).toBe(Number(onDisk));
    expect(failed.faultRecords).toBe(Number(onDisk));

    await expectLabStillWorks(server, lab, stream);
    stream.close();

    // The failed batch left room for smaller writes: fill the file to its last page, then a request that
    // needs room is refused as the environment's fault, and saves nothing.
    for (let seq = 10_000_000, size = 1000; size >= 1;) {
      try {
        server.app.db.faults.append(
          run,
          Array.from({ length: size }, (_, i) =>
            faultRowOf({
              seq: seq + i,
              timeNs: 0,
              device: 'x',
              address: '0x0',
              access: 'r',
              kind: 'k',
              code: 'c',
              flow: seq + i,
              outcome: 'resumed',
              endNs: 0,
              causes: '',
            }),
          ),
        );
        seq += size;
      } catch {
        size = Math.floor(size / 2);
      }
    }
    const source = (await call(server.url, 'GET', `${API}/experiments/${experiment}`)).body.config;
    // Pages the fault log's tables could not use may still take an experiment (another table): fill
    // those too, the same way, so the request below is refused wherever the last free byte was.
    for (let size = 4000; size >= 1;) {
      const filler = { name: 'filler', description: 'x'.repeat(size), config: source };
      if ((await call(server.url, 'POST', `${API}/experiments`, filler)).status >= 300)
        size = Math.floor(size / 2);
    }
    const experiments = (await call(server.url, 'GET', `${API}/experiments`)).body.length;
    const noRoom = await call(server.url, 'POST', `${API}/experiments`, {
      name: 'no room',
      description: 'x'.repeat(4000),
      config: source,
    });
    expect(noRoom.body).toEqual({
      statusCode: 503,
      code: 'ENOSPC',
      message:
        'the database cannot be written: the disk (or the database size limit) is full (database or disk is full).',
      reason: 'storage',
    });
    expect((await call(server.url, 'GET', `${API}/experiments`)).body.length).toBe(experiments);

    // Room made (the experiment and its records removed): runs work again.
    expect((await call(server.url, 'DELETE', `${API}/experiments/${experiment}?cascade=true`)).status).toBe(
      204,
    );
    const presets = (await call(server.url, 'GET', `${API}/presets`)).body as {
      id: string;
      config: object;
      workload: object;
    }[];
    const small = presets.find((p) => p.id === 'sva-pri-vtd')!;
    const next = await call(server.url, 'POST', `${API}/experiments`, {
      name: 'small',
      config: { version: 1, system: small.config, workload: small.workload, seed: 1 },
    });
    const again = (await call(server.url, 'POST', `${API}/experiments/${next.body.id}/runs`, {})).body.id;
    const done = await until('the next run to end', async () => {
      const view = (await call(server!.url, 'GET', `${API}/runs/${again}`)).body;
      return view.status === 'running' || view.status === 'queued' ? undefined : view;
    });
    expect(done.status, done.error).toBe('done');
  });

  it('on a full 2 MiB tmpfs (ENOSPC): the run is shown failed with its reason though the file cannot take it', async (context) => {
    const disk = smallDisk();
    if (!disk) return context.skip('mount -t tmpfs is not allowed here (needs CAP_SYS_ADMIN)');
    server = await startServer({ databaseFile: join(disk, 'lab.db') });
    const { lab, stream } = await liveLab(server);
    const experiment = await longExperiment(server);
    const run = (await call(server.url, 'POST', `${API}/experiments/${experiment}/runs`, {})).body.id;
    const { onDisk } = await fullDiskFailure(server, run);
    expect(server.app.db.faults.count(run)).toBe(Number(onDisk));
    await expectLabStillWorks(server, lab, stream);
    stream.close();
  });

  it('failing its writes (SQLITE_IOERR): the run fails with EIO, shown before the file can take it, written after', async (context) => {
    const databaseFile = join(mkdtempSync(join(tmpdir(), 'iommu-lab-eio-')), 'lab.db');
    server = await startServer({ databaseFile });
    const { lab, stream } = await liveLab(server);
    const experiment = await longExperiment(server);
    const run = (await call(server.url, 'POST', `${API}/experiments/${experiment}/runs`, {})).body.id;
    await until('records on disk', async () => {
      const view = (await call(server!.url, 'GET', `${API}/runs/${run}`)).body;
      return view.faultRecords > 0 ? view : undefined;
    });
    try {
      execFileSync('chattr', ['+i', `${databaseFile}-wal`], { stdio: 'ignore' });
    } catch {
      return context.skip('chattr +i is not available here (no CAP_LINUX_IMMUTABLE)');
    }
    frozen.push(`${databaseFile}-wal`);

    const failed = await until('the run to fail', async () => {
      const view = (await call(server!.url, 'GET', `${API}/runs/${run}`)).body;
      return view.status === 'running' ? undefined : view;
    });
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(
      /^EIO: the database cannot be written, the disk failed to read or write \(disk I\/O error\); \d+ fault records of this run are on disk\.$/,
    );
    await expectLabStillWorks(server, lab, stream);
    stream.close();

    // The disk back: the failure the file could not take is written, as it was shown.
    execFileSync('chattr', ['-i', frozen.pop()!]);
    expect(await server.app.db.runs.flush()).toBe(0);
    const stored = await server.app.db.prisma.run.findUniqueOrThrow({ where: { id: run } });
    expect(stored).toMatchObject({ status: 'failed', error: failed.error });
    expect(server.app.db.faults.count(run)).toBe(stored.faultRecords);
  });
});
