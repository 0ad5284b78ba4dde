import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, StreamClient, call, startStreamServer, wsUrl } from '../testing/harness';

const maxQueuedEvents = 1_000;

describe('a client that falls behind loses its oldest events and keeps the newest, and is told how many', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startStreamServer({ maxQueuedEvents, batchEvents: 100 });
  });
  afterAll(() => server.close());

  // Either encoding: batches of objects, or of tuples (the same events, told of the same way).
  it.each([
    ['json', 'events'],
    ['tuples', 'event-tuples'],
  ] as const)(
    'a burst larger than the queue (%s): the last event arrives, the first ones are counted as dropped',
    async (encoding, batchType) => {
      const lab = (await call(server.url, 'POST', '/api/v1/labs', { preset: 'passthrough-pinned' })).body.id;
      const client = await StreamClient.open(wsUrl(server.url, `/api/v1/labs/${lab}/stream`));
      client.send({ type: 'subscribe', encoding });
      client.send({ type: 'ping' });
      await client.until((messages) => messages.some((m) => m.type === 'pong'));
      // A paused lab runs the workload to its end within the request: every event is published before the
      // hub's next flush, many more than one client's queue holds.
      const workload = await call(server.url, 'POST', `/api/v1/labs/${lab}/workloads`, {
        workload: {
          streams: [{ device: 'vf0', pattern: 'sequential', base: '0x0', workingSet: 1 << 24, count: 2000 }],
        },
      });
      expect(workload.status).toBe(200);
      const history = server.app.labs.get(lab).history;
      const published = history.latestSeq - history.oldestSeq + 1;
      expect(published).toBeGreaterThan(3 * maxQueuedEvents);

      await client.until(() => client.events().some((event) => event.seq === history.latestSeq));
      const received = client.events();
      const told = client.messages.reduce((sum, m) => sum + (m.type === 'dropped' ? m.count : 0), 0);
      // Every event was either delivered or counted; the ones lost are the oldest.
      expect(received.length + told).toBe(published);
      expect(told).toBeGreaterThanOrEqual(published - maxQueuedEvents);
      expect(received.at(-1)!.seq).toBe(history.latestSeq);
      expect(received[0]!.seq).toBeGreaterThan(history.oldestSeq);
      // The notice comes before the batches it explains.
      const batches = client.messages.filter((m) => m.type === 'events' || m.type === 'event-tuples');
      expect(new Set(batches.map((m) => m.type))).toEqual(new Set([batchType]));
      expect(client.messages.findIndex((m) => m.type === 'dropped')).toBeLessThan(
        client.messages.indexOf(batches[0]!),
      );
      client.close();
    },
  );
});
