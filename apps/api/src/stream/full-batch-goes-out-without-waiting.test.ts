/**
 * Published events wait at most flushMs, and a whole batch's worth does not wait at all: with a flush
 * interval longer than the test, a burst of events still arrives (in full batches), and a few events alone
 * wait for the interval. A lab running flat out publishes more than a client's queue holds within one
 * interval; without this, a client that keeps up would lose events to the wait alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, StreamClient, call, startStreamServer, wsUrl } from '../testing/harness';

const batchEvents = 100;

describe('a whole batch goes out without waiting for the flush interval', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startStreamServer({ batchEvents, flushMs: 600_000 });
  });
  afterAll(() => server.close());

  it('a burst arrives whole at once; a few events wait', async () => {
    const lab = (await call(server.url, 'POST', '/api/v1/labs', { preset: 'passthrough-pinned' })).body.id;
    const client = await StreamClient.open(wsUrl(server.url, `/api/v1/labs/${lab}/stream`));
    await client.until((messages) => messages.some((m) => m.type === 'hello'));

    const one = { device: 'vf0', address: '0x1000', length: 64, access: 'read' };
    expect((await call(server.url, 'POST', `/api/v1/labs/${lab}/dma`, one)).status).toBe(200);
    const history = server.app.labs.get(lab).history;
    const few = history.latestSeq - history.oldestSeq + 1;
    expect(few).toBeLessThan(batchEvents);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(client.events()).toEqual([]);

    const workload = {
      workload: {
        streams: [{ device: 'vf0', pattern: 'sequential', base: '0x0', workingSet: 1 << 24, count: 300 }],
      },
    };
    expect((await call(server.url, 'POST', `/api/v1/labs/${lab}/workloads`, workload)).status).toBe(200);
    await client.until(() => client.events().some((event) => event.seq === history.latestSeq));
    // The few events waiting went out with the burst, in order, nothing lost.
    expect(client.events().map((event) => event.seq)).toEqual(
      Array.from({ length: history.latestSeq - history.oldestSeq + 1 }, (_, i) => history.oldestSeq + i),
    );
    expect(client.messages.filter((m) => m.type === 'dropped')).toEqual([]);
    client.close();
  });
});
