import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type Running, call, startServer, wsUrl } from '../testing/harness';

const READERS = 150;
const NEWCOMERS = 50;
const MiB = 1024 * 1024;

/**
 * Readers in their own process (so the load is the server's fan-out, not this process's reading): each
 * counts the bytes it gets; the process says "busy" once every one has had 256 KiB of events.
 */
const readerScript = `
import { WebSocket } from 'ws';
const [url, count] = [process.argv[1], Number(process.argv[2])];
const received = new Array(count).fill(0);
let told = false;
for (let index = 0; index < count; index++)
  new WebSocket(url).on('message', (raw) => {
    received[index] += raw.length;
    if (!told && received.every((bytes) => bytes >= 256 * 1024)) {
      told = true;
      process.send('busy');
    }
  });
`;

/** Resolves with `promise`, or rejects once `ms` have passed. */
function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('with many clients streaming a lab at "max", new clients get their hello and REST answers', () => {
  let server: Running;
  let readers: ChildProcess | undefined;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    readers?.kill();
    await server.close();
  });

  it('every newcomer is greeted and /healthz answers before a deadline while the streams are busy', async () => {
    const lab = (await call(server.url, 'POST', '/api/v1/labs', { preset: 'passthrough-pinned' })).body.id;
    const stream = { device: 'vf0', pattern: 'sequential', base: '0x0', workingSet: 64 * MiB, count: 5e7 };
    await call(server.url, 'POST', `/api/v1/labs/${lab}/workloads`, {
      workload: { streams: [{ ...stream, concurrency: 16 }] },
      wait: false,
    });
    await call(server.url, 'POST', `/api/v1/labs/${lab}/clock`, { action: 'run', speed: 'max' });
    const url = wsUrl(server.url, `/api/v1/labs/${lab}/stream`);
    readers = spawn(process.execPath, ['--input-type=module', '-e', readerScript, url, String(READERS)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await withDeadline(
      new Promise((resolve) => readers!.once('message', resolve)),
      60_000,
      'the streams were not busy',
    );

    // Connecting at once: each must be greeted before the deadline.
    const newcomers = Array.from({ length: NEWCOMERS }, () => new WebSocket(url));
    // A failed connection shows as a missing hello.
    for (const newcomer of newcomers) newcomer.on('error', () => {});
    const greeted = newcomers.map(
      (newcomer) =>
        new Promise<void>((resolve) =>
          newcomer.on('message', (raw) => {
            if (String(raw).startsWith('{"type":"hello"')) resolve();
          }),
        ),
    );
    await withDeadline(Promise.all(greeted), 10_000, 'a new client had no hello');
    const health = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(5000) });
    expect(health.status).toBe(200);
    const labs = await fetch(`${server.url}/api/v1/labs`, { signal: AbortSignal.timeout(5000) });
    expect(labs.status).toBe(200);
    expect(server.app.labs.get(lab).hub.clients.size).toBe(READERS + NEWCOMERS);
    for (const newcomer of newcomers) newcomer.terminate();
    await call(server.url, 'POST', `/api/v1/labs/${lab}/clock`, { action: 'pause' });
  }, 120_000);
});
