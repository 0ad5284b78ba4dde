import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, StreamClient, call, startServer, wsUrl } from '../testing/harness';

/** An upgrade by hand: the status, the body, and whether the server closed the connection after it. */
function upgrade(base: string, path: string, headers: Record<string, string>) {
  return new Promise<{ status: number; body: Record<string, unknown>; closed: boolean }>(
    (resolve, reject) => {
      const outgoing = request(`${base}${path}`, {
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
          ...headers,
        },
      });
      outgoing.on('upgrade', () => reject(new Error('upgraded')));
      outgoing.on('response', (response) => {
        let text = '';
        let ended = false;
        let closed = false;
        const done = () => {
          if (ended && closed) resolve({ status: response.statusCode!, body: JSON.parse(text), closed });
        };
        // The connection may not be reused: the server ends it once it has answered.
        response.socket.once('close', () => ((closed = true), done()));
        response.on('data', (chunk: Buffer) => (text += chunk));
        response.on('end', () => ((ended = true), done()));
      });
      outgoing.on('error', reject);
      outgoing.end();
    },
  );
}

describe('websockets open only from the server’s own origin, listed origins, or clients that send none', () => {
  let server: Running;
  let lab: string;
  const stream = () => `/api/v1/labs/${lab}/stream`;
  beforeAll(async () => {
    server = await startServer({ allowedOrigins: ['https://lab.example:8443', 'http://127.0.0.1:5173'] });
    lab = (await call(server.url, 'POST', '/api/v1/labs', { preset: 'sva-pri-vtd' })).body.id;
  });
  afterAll(() => server.close());

  it('another site’s origin is a 403 EORIGIN with a sentence, and the connection is closed', async () => {
    for (const origin of [
      'http://evil.example',
      'null',
      'https://127.0.0.1:' + new URL(server.url).port,
      'x',
    ]) {
      const refused = await upgrade(server.url, stream(), { origin });
      expect(refused.status, origin).toBe(403);
      expect(refused.body, origin).toMatchObject({ code: 'EORIGIN', statusCode: 403 });
      expect(refused.body.message).toContain('IOMMU_LAB_ORIGINS');
      expect(refused.closed).toBe(true);
    }
    // The Host decides what "own" means: a page on localhost is not the server at 127.0.0.1.
    const other = await upgrade(server.url, stream(), {
      origin: server.url.replace('127.0.0.1', 'localhost'),
    });
    expect(other.status).toBe(403);
  });

  it('the run stream is guarded the same way (refused before the run is looked up)', async () => {
    const refused = await upgrade(server.url, '/api/v1/runs/no-such-run/stream', {
      origin: 'http://evil.example',
    });
    expect(refused.status).toBe(403);
    const ownOrigin = await upgrade(server.url, '/api/v1/runs/no-such-run/stream', { origin: server.url });
    expect(ownOrigin.status).toBe(404);
  });

  it('the own origin, a listed origin (any case, default port implied), and no Origin at all connect', async () => {
    for (const origin of [server.url, 'https://LAB.example:8443', 'http://127.0.0.1:5173', undefined]) {
      const client = await StreamClient.open(wsUrl(server.url, stream()), origin ? { origin } : {});
      await client.until((messages) => messages.length > 0);
      expect(client.messages[0]!.type, origin).toBe('hello');
      client.close();
    }
  });

  it('REST is not affected by Origin (browsers enforce CORS there)', async () => {
    const listed = await call(server.url, 'GET', '/api/v1/labs', undefined, {
      origin: 'http://evil.example',
    });
    expect(listed.status).toBe(200);
  });

  it('a listed origin that is not an origin stops the server from starting', async () => {
    await expect(startServer({ allowedOrigins: ['127.0.0.1:5173'] })).rejects.toThrow('not an origin');
  });
});
