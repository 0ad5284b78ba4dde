import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type Running, StreamClient, call, startServer, wsUrl } from '../testing/harness';
import { redactUrl } from './log-redaction';

const TOKEN = 'sekret-7f3a';
const bearer = { authorization: `Bearer ${TOKEN}` };

describe('the access token: in the header on REST, in the URL only for websocket upgrades, never in the log', () => {
  let server: Running;
  const lines: string[] = [];
  beforeAll(async () => {
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    server = await startServer({ token: TOKEN, logger: { level: 'trace', stream } });
  });
  afterAll(() => server.close());

  it('?token= on a REST route is refused (401 token-in-url) even when it is right, and changes nothing', async () => {
    const refused = await call(server.url, 'POST', `/api/v1/labs?token=${TOKEN}`, {});
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: 'EAUTH', reason: 'token-in-url' });
    expect(refused.body.message).toContain('Authorization');
    expect((await call(server.url, 'GET', '/api/v1/labs', undefined, bearer)).body).toEqual([]);
  });

  it('?token= opens a websocket; no log line holds the token, from the URL or the Authorization header', async () => {
    const created = await call(server.url, 'POST', '/api/v1/labs', {}, bearer);
    const path = `/api/v1/labs/${created.body.id}/stream`;
    const viaQuery = await StreamClient.open(wsUrl(server.url, `${path}?token=${TOKEN}`));
    await viaQuery.until((messages) => messages.length > 0);
    expect(viaQuery.messages[0]!.type).toBe('hello');
    viaQuery.close();
    const viaHeader = new WebSocket(wsUrl(server.url, path), { headers: bearer });
    await new Promise((resolve, reject) => {
      viaHeader.once('open', resolve);
      viaHeader.once('error', reject);
    });
    viaHeader.close();
    await call(server.url, 'GET', `/api/v1/labs?token=${TOKEN}&x=1`);
    await call(server.url, 'GET', `/api/v1/labs/nothing?token=${TOKEN}`, undefined, bearer);
    // The server logs a request when it completes: the refused one above is in by now, or soon.
    const deadline = Date.now() + 5000;
    while (!lines.some((line) => line.includes('"url":"/api/v1/labs/nothing?token=[redacted]"'))) {
      if (Date.now() > deadline) throw new Error(`no redacted line in:\n${lines.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(lines.some((line) => line.includes(`${path}?token=[redacted]`))).toBe(true);
    expect(lines.filter((line) => line.includes(TOKEN))).toEqual([]);
  });

  it('a logged request with its headers has the Authorization header censored', async () => {
    const before = lines.length;
    server.app.log.info({ req: { headers: { ...bearer } }, headers: { ...bearer } }, 'headers');
    const deadline = Date.now() + 5000;
    while (lines.length === before) {
      if (Date.now() > deadline) throw new Error('the line never arrived');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(lines.slice(before).join('\n')).not.toContain(TOKEN);
  });

  it('redactUrl replaces every token parameter and nothing else', () => {
    expect(redactUrl('/a?token=x&b=token%3Dy&TOKEN=z#t')).toBe(
      '/a?token=[redacted]&b=token%3Dy&TOKEN=[redacted]#t',
    );
    expect(redactUrl('/token=x')).toBe('/token=x');
  });
});
