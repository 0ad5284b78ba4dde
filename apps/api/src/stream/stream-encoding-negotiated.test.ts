/**
 * The stream's encoding is the client's choice, per connection, through a real server and real sockets: a
 * client that does not ask gets `events` batches of objects as before; one that subscribes with
 * `encoding: 'tuples'` gets `event-tuples` batches holding the same events; a later subscription without
 * an encoding goes back to `json`. (Drops in either encoding: client-behind-keeps-the-newest-events.test.ts.)
 */
import type { EventTuplesMessage, ServerMessage } from '@iommu-lab/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, StreamClient, call, startServer, wsUrl } from '../testing/harness';

const workload = (count: number) => ({
  workload: {
    streams: [{ device: 'vf0', pattern: 'sequential', base: '0x0', workingSet: 1 << 24, count }],
  },
});

const tuplesOf = (messages: ServerMessage[]) =>
  messages.filter((m): m is EventTuplesMessage => m.type === 'event-tuples');

describe('each client chooses how its batches are encoded', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  const newLab = async () =>
    (await call(server.url, 'POST', '/api/v1/labs', { preset: 'passthrough-pinned' })).body.id as string;

  /** A client whose subscriptions (if any) the server has applied: a ping sent after them came back. */
  const connected = async (lab: string, ...subscriptions: object[]) => {
    const client = await StreamClient.open(wsUrl(server.url, `/api/v1/labs/${lab}/stream`));
    for (const subscription of subscriptions) client.send({ type: 'subscribe', ...subscription });
    client.send({ type: 'ping' });
    await client.until((messages) => messages.some((m) => m.type === 'pong'));
    expect(client.messages.filter((m) => m.type === 'error')).toEqual([]);
    return client;
  };

  it('json unless asked: the same events either way, keys in the same order', async () => {
    const lab = await newLab();
    const plain = await connected(lab);
    const tuples = await connected(lab, { encoding: 'tuples' });
    const back = await connected(lab, { encoding: 'tuples' }, { filter: {} });
    expect((await call(server.url, 'POST', `/api/v1/labs/${lab}/workloads`, workload(100))).status).toBe(200);
    const history = server.app.labs.get(lab).history;
    const arrived = (client: StreamClient) =>
      client.until(() => client.events().some((event) => event.seq === history.latestSeq));
    await Promise.all([plain, tuples, back].map(arrived));

    const batchTypes = (client: StreamClient) =>
      new Set(
        client.messages.filter((m) => m.type === 'events' || m.type === 'event-tuples').map((m) => m.type),
      );
    expect([plain, tuples, back].map(batchTypes)).toEqual([
      new Set(['events']),
      new Set(['event-tuples']),
      new Set(['events']),
    ]);
    const events = plain.events();
    expect(events.length).toBe(history.latestSeq - history.oldestSeq + 1);
    expect(back.events()).toEqual(events);
    expect(tuples.events().map((event) => JSON.stringify(event))).toEqual(
      events.map((event) => JSON.stringify(event)),
    );
    // Each layout comes once a batch, for all its events: keys are not repeated per event.
    for (const message of tuplesOf(tuples.messages)) {
      expect(new Set(message.layouts.map((layout) => JSON.stringify(layout))).size).toBe(
        message.layouts.length,
      );
      expect(message.layouts.length).toBeLessThan(message.events.length);
    }
    for (const client of [plain, tuples, back]) client.close();
  });

  it('an encoding the schema does not know is refused, and the subscription stays as it was', async () => {
    const lab = await newLab();
    const client = await StreamClient.open(wsUrl(server.url, `/api/v1/labs/${lab}/stream`));
    client.send({ type: 'subscribe', encoding: 'columnar' });
    await client.until((messages) => messages.some((m) => m.type === 'error'));
    expect(client.messages.find((m) => m.type === 'error')).toMatchObject({ code: 'EVALIDATION' });
    expect([...server.app.labs.get(lab).hub.clients][0]!.encoding).toBe('json');
    client.close();
  });
});
