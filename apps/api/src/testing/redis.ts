/**
 * A real redis-server for tests (Debian's redis-server package; .ci/run installs it), on a free port with
 * no persistence, stopped with the test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import type { ServerOptions } from '../server';
import { type Running, freePort, startServer } from './harness';

export interface RedisProcess {
  url: string;
  /** The server's process (SIGSTOP / SIGCONT make a Redis that stops answering and comes back). */
  pid: number;
  stop(): Promise<void>;
}

export async function startRedis(binary = process.env.REDIS_SERVER ?? 'redis-server'): Promise<RedisProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.once('error', (error) =>
      reject(new Error(`cannot start ${binary} (install Debian's redis-server): ${error.message}`)),
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${binary} exited with ${code}: ${out}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * A suite's server with its own queue worker on a redis-server of its own, started before its tests and
 * stopped after them; `held.server` is the server while the tests run.
 */
export function serverOnQueue(options: Partial<ServerOptions> = {}) {
  const held: { redis?: RedisProcess; server?: Running } = {};
  beforeAll(async () => {
    held.redis = await startRedis();
    held.server = await startServer({ redisUrl: held.redis.url, ...options });
  });
  afterAll(async () => {
    await held.server?.close();
    await held.redis?.stop();
  });
  return held as { redis: RedisProcess; server: Running };
}
