/**
 * A run whose workload storms its page request queue ends failed, with the livelock and its figures as
 * its error, instead of running for ever; the fault records it made before are kept. Through the real
 * server: the run's websocket, its resource, its fault log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type Running, call, startServer, wsUrl } from '../testing/harness';
import { overflowStormExperiment } from '../testing/overflow-storm';

const API = '/api/v1';

describe('a run of an overflow storm', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  /** Starts a run of `config` and waits for its websocket to close; its messages and its resource. */
  async function runToEnd(config: object) {
    const created = await call(server.url, 'POST', `${API}/experiments`, { name: 'storm', config });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const started = await call(server.url, 'POST', `${API}/experiments/${created.body.id}/runs`, {});
    expect(started.status).toBe(202);
    const messages = await new Promise<Record<string, unknown>[]>((resolve, reject) => {
      const received: Record<string, unknown>[] = [];
      const socket = new WebSocket(wsUrl(server.url, `${API}/runs/${started.body.id}/stream`));
      socket.on('message', (raw) => received.push(JSON.parse(String(raw)) as Record<string, unknown>));
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
    });
    return { messages, run: (await call(server.url, 'GET', `${API}/runs/${started.body.id}`)).body };
  }

  it('ends failed, naming the livelock and its figures; the records it made so far are kept', async () => {
    const { messages, run } = await runToEnd(overflowStormExperiment());
    expect(run.status).toBe('failed');
    // The emulator's rule stopped it, not the machine: a study counts it as an answer.
    expect(run.stoppedBy).toBe('livelock');
    expect(run.error).toMatch(
      /^livelock: page request queue overflow storm on vtd0 \(PRQ\): in the driver's last 2 batches, [\d,]+ of [\d,]+ page requests were lost to the overflow \([\d,]+ retried after the IOMMU's automatic Success\) for 16 that got through: [\d.]+ lost per useful fault, past the bound of 256 \(system option livelock\.bound\); the system stopped at [\d,]+ ns of simulated time; \d+ of 64 transactions had ended\.$/,
    );
    expect(run.transactions).toBeLessThan(run.totalTransactions);
    expect(run.faultRecords).toBeGreaterThan(0);
    expect(server.app.db.faults.count(run.id)).toBe(run.faultRecords);
    // Its metrics up to the stop are kept: the storm's own figures (a study charts where it begins).
    const { faults } = run.metrics.system;
    expect(faults.queueOverflows['page-request']).toBeGreaterThan(256 * faults.groups);
    expect(faults.livelocks).toBe(1);
    expect(run.metrics.system.transactions.completed).toBe(run.transactions);
    // The run's websocket says so as it ends.
    expect(messages.at(-1)).toMatchObject({ run: run.id, status: 'failed', error: run.error });
  });

  it('with livelock.bound 0 in the system options the same storm runs to its end', async () => {
    const config = overflowStormExperiment();
    config.system.options = { ...config.system.options, livelock: { bound: 0 } };
    const { run } = await runToEnd(config);
    expect(run).toMatchObject({ status: 'done', transactions: 64, totalTransactions: 64 });
  });
});
