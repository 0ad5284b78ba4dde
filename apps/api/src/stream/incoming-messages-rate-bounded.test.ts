import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, StreamClient, call, startStreamServer, wsUrl } from '../testing/harness';

const messagesPerSecond = 50;

describe('messages from a client are taken at most messagesPerSecond; past it the server reads no further for a while', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startStreamServer({ messagesPerSecond }, 1000);
  });
  afterAll(() => server.close());

  it('a burst past the limit is answered in full, but only the first limit’s worth at once', async () => {
    const lab = (await call(server.url, 'POST', '/api/v1/labs', {})).body.id as string;
    const client = await StreamClient.open(wsUrl(server.url, `/api/v1/labs/${lab}/stream`));
    await client.until((messages) => messages.length > 0);
    const pongs = () => client.messages.filter((message) => message.type === 'pong').length;
    const sent = performance.now();
    for (let index = 0; index < 3 * messagesPerSecond; index++) client.send({ type: 'ping' });
    // At most the bucket's messagesPerSecond, plus what it refilled meanwhile (a slow machine waits longer).
    const allowed = () => messagesPerSecond * (1 + (performance.now() - sent) / 1000);

    await client.until(() => pongs() >= messagesPerSecond);
    expect(pongs()).toBeLessThanOrEqual(allowed());
    const serverSide = [...server.app.labs.get(lab).hub.clients][0]!;
    expect(serverSide.channel.throttled).toBeGreaterThan(0);

    // Nothing is lost: the rest are answered as the bucket refills, in order.
    await client.until(() => pongs() === 3 * messagesPerSecond, 20_000);
    // The 2·messagesPerSecond past the bucket come at messagesPerSecond: 2 s.
    expect(performance.now() - sent).toBeGreaterThanOrEqual(2_000 * 0.95);
    client.send({ type: 'subscribe', filter: { kinds: ['dma.completed'] } });
    client.send({ type: 'ping' });
    await client.until(() => pongs() === 3 * messagesPerSecond + 1, 20_000);
    expect(serverSide.filter).toEqual({ kinds: ['dma.completed'] });
    client.close();
  }, 60_000);
});
