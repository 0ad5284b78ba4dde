/**
 * Integration-test harness: a real server on a real port (127.0.0.1, port 0), plain fetch for REST and a
 * real websocket client for the stream.
 */
import { mkdtempSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { WebSocket } from 'ws';
import type { ServerMessage } from '@iommu-lab/wire';
import { type ServerOptions, buildServer } from '../server';
import { DEFAULT_STREAM_LIMITS, type StreamLimits } from '../stream/stream-hub';

export interface Running {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** A server on 127.0.0.1, port 0, with its own new database file unless one is given. */
export async function startServer(options: Partial<ServerOptions> = {}): Promise<Running> {
  const databaseFile = options.databaseFile ?? join(mkdtempSync(join(tmpdir(), 'iommu-lab-')), 'lab.db');
  const app = await buildServer({ ...options, databaseFile });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url, close: () => app.close() };
}

/** A server whose labs stream under these limits (the others the defaults), keeping `historyEvents` events each. */
export function startStreamServer(stream: Partial<StreamLimits>, historyEvents = 100_000): Promise<Running> {
  return startServer({ labLimits: { historyEvents, stream: { ...DEFAULT_STREAM_LIMITS, ...stream } } });
}

export interface Response<T = unknown> {
  status: number;
  body: T;
}

/** JSON request; `body` undefined sends none. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests index freely into response bodies
export async function call<T = any>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response<T>> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}

/** A websocket client that collects every message it receives. */
export class StreamClient {
  readonly messages: ServerMessage[] = [];
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (raw) => {
      this.messages.push(JSON.parse(String(raw)) as ServerMessage);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static async open(
    url: string,
    options: ConstructorParameters<typeof WebSocket>[2] = {},
  ): Promise<StreamClient> {
    // Listen before the upgrade completes: the server's hello may arrive in the same packet as it.
    const client = new StreamClient(new WebSocket(url, options));
    await new Promise<void>((resolve, reject) => {
      client.socket.once('open', () => resolve());
      client.socket.once('error', reject);
      client.socket.once('unexpected-response', (_request, response) => {
        reject(new Error(`HTTP ${response.statusCode}`));
        client.socket.terminate();
      });
    });
    return client;
  }

  send(message: unknown): void {
    this.socket.send(JSON.stringify(message));
  }

  /** Waits until `done(messages)` holds (or fails after `timeoutMs`). */
  async until(done: (messages: ServerMessage[]) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.messages)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; received ${this.messages.map((m) => m.type).join(',')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The events of every batch received, in either encoding (`tuples` read as packages/wire documents it). */
  events(): Record<string, unknown>[] {
    return this.messages.flatMap((message) => {
      if (message.type === 'events') return message.events as unknown as Record<string, unknown>[];
      if (message.type !== 'event-tuples') return [];
      return message.events.map((row) => {
        const { kind, keys } = message.layouts[row[0] as number]!;
        const values = row.slice(1);
        return Object.fromEntries(keys.map((key) => [key, key === 'kind' ? kind : values.shift()]));
      });
    });
  }

  close(): void {
    this.socket.close();
  }
}

export const wsUrl = (base: string, path: string) => `${base.replace(/^http/, 'ws')}${path}`;

/** A loopback port free right now (nothing listens on it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Saves `config` as an experiment, runs it, and waits on the run's websocket until it ends done; its id. */
export async function runExperiment(server: Running, name: string, config: unknown): Promise<string> {
  const experiment = await call(server.url, 'POST', '/api/v1/experiments', { name, config });
  if (experiment.status !== 201) throw new Error(`experiment refused: ${JSON.stringify(experiment.body)}`);
  const started = await call(server.url, 'POST', `/api/v1/experiments/${experiment.body.id}/runs`, {});
  if (started.status !== 202) throw new Error(`run refused: ${JSON.stringify(started.body)}`);
  const run = started.body.id as string;
  await new Promise<void>((resolve, reject) => {
    const socket = new WebSocket(wsUrl(server.url, `/api/v1/runs/${run}/stream`));
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
  const status = (await call(server.url, 'GET', `/api/v1/runs/${run}`)).body.status as string;
  if (status !== 'done') throw new Error(`run ${run} ended ${status}`);
  return run;
}
