/**
 * Deleting an experiment that has runs takes results with it, so it is asked for: without ?cascade=true
 * the DELETE is a 409 (EHASRUNS, has-runs) that changes nothing; with it, the runs and their fault logs go
 * too. An experiment without runs deletes as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type Running, call, startServer, wsUrl } from '../testing/harness';

describe('DELETE /experiments/:id of an experiment with runs', () => {
  let server: Running;
  let config: object;
  const api = (method: string, path: string, body?: unknown) =>
    call(server.url, method, `/api/v1${path}`, body);
  const newExperiment = async (name: string) => {
    const created = await api('POST', '/experiments', { name, config });
    expect(created.status).toBe(201);
    return created.body.id as string;
  };
  const runToEnd = async (experiment: string, seed: number) => {
    const started = await api('POST', `/experiments/${experiment}/runs`, { seed });
    expect(started.status).toBe(202);
    await new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(wsUrl(server.url, `/api/v1/runs/${started.body.id}/stream`));
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    const run = (await api('GET', `/runs/${started.body.id}`)).body;
    expect(run.status).toBe('done');
    return run.id as string;
  };

  beforeAll(async () => {
    server = await startServer();
    const presets = (await api('GET', '/presets')).body as {
      id: string;
      config: object;
      workload: { streams: { count: number }[] };
    }[];
    const preset = presets.find((p) => p.id === 'passthrough-map')!;
    const workload = structuredClone(preset.workload);
    for (const stream of workload.streams) stream.count = 100;
    config = { version: 1, system: preset.config, workload, seed: 1 };
  });
  afterAll(() => server.close());

  it('is refused with 409 EHASRUNS naming how many runs, and nothing is deleted', async () => {
    const id = await newExperiment('kept');
    const runs = [await runToEnd(id, 1), await runToEnd(id, 2)];
    for (const path of [`/experiments/${id}`, `/experiments/${id}?cascade=false`]) {
      const refused = await api('DELETE', path);
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ code: 'EHASRUNS', reason: 'has-runs' });
      expect(refused.body.message).toBe(
        'the experiment has 2 runs; delete with ?cascade=true to delete them too.',
      );
    }
    expect((await api('GET', `/experiments/${id}`)).body).toMatchObject({ id, runs: 2 });
    for (const run of runs) expect((await api('GET', `/runs/${run}`)).status).toBe(200);
    expect(server.app.db.faults.count(runs[0]!)).toBeGreaterThan(0);
  });

  it('with ?cascade=true deletes the experiment, its runs and their fault logs', async () => {
    const id = await newExperiment('gone');
    const run = await runToEnd(id, 3);
    expect(server.app.db.faults.count(run)).toBeGreaterThan(0);
    expect((await api('DELETE', `/experiments/${id}?cascade=true`)).status).toBe(204);
    expect((await api('GET', `/experiments/${id}`)).status).toBe(404);
    expect((await api('GET', `/runs/${run}`)).status).toBe(404);
    expect(server.app.db.faults.count(run)).toBe(0);
  });

  it('without runs deletes as before; an unknown cascade value is a 400', async () => {
    const id = await newExperiment('empty');
    const bad = await api('DELETE', `/experiments/${id}?cascade=yes`);
    expect(bad.status).toBe(400);
    expect((await api('GET', `/experiments/${id}`)).status).toBe(200);
    expect((await api('DELETE', `/experiments/${id}`)).status).toBe(204);
    expect((await api('GET', `/experiments/${id}`)).status).toBe(404);
  });
});
