/**
 * A run that writes a storm's worth of fault records leaves the server answering: one slice of the
 * emulator makes tens of thousands of records, sent in batches of at most 10 000 (run-worker.ts `send`),
 * and each synchronous write first yields to the event loop (run-manager.ts DatabaseSink.append). Seen
 * from outside: the records on disk are read several times while the run runs, not only once it ended.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { priCredits } from '../studies/builtin/pri-credits';
import { type Running, call, startServer } from '../testing/harness';

const API = '/api/v1';

describe('a run of many fault records', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it('lets requests in between its batches', async () => {
    // 16 devices of 128 PRI credits on a queue of 32: about 59 000 records, in batches of 10 000.
    const config = structuredClone(priCredits().experiments[1]!.config);
    for (const device of config.system.devices!) device.pri!.capacity = 128;
    config.system.iommus[0]!.capabilities = { pageRequestQueueDepth: 32 };
    for (const stream of config.workload.streams) stream.count /= 4;
    const experiment = await call(server.url, 'POST', `${API}/experiments`, { name: 'storm', config });
    expect(experiment.status, JSON.stringify(experiment.body)).toBe(201);
    const run = (await call(server.url, 'POST', `${API}/experiments/${experiment.body.id}/runs`, {})).body;

    const seenWhileRunning = new Set<number>();
    let view = run;
    while (view.status === 'queued' || view.status === 'running') {
      view = (await call(server.url, 'GET', `${API}/runs/${run.id}`)).body;
      if (view.status === 'running') seenWhileRunning.add(view.faultRecords);
    }
    expect(view.status).toBe('done');
    expect(view.faultRecords).toBeGreaterThan(50_000);
    // Read between batches: the count of records on disk grew while the server answered.
    expect([...seenWhileRunning].filter((records) => records > 0).length).toBeGreaterThanOrEqual(3);
  }, 120_000);
});
