/**
 * Metrics as series in simulated time over REST against a real server: a live lab's (GET
 * /labs/:lab/series) and a finished run's, stored with the run and re-binned (GET /runs/:run/series);
 * the refusals: too many bins (422, the limit named), unknown lab or run (404), a run not done (409), a
 * run stored before runs kept series (404), a bad width (400).
 */
import { PRESETS } from '@iommu-lab/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type Running, call, startServer, wsUrl } from '../testing/harness';
import { API, type Body, type Lab, expectRefused, expectStatus, labClient } from '../testing/lab-client';

let server: Running;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const api = (method: string, path: string, body?: unknown) => call(server.url, method, `${API}${path}`, body);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

function workloadOf(preset: string, count: number) {
  const workload = structuredClone(PRESETS.find((p) => p.id === preset)!.workload);
  for (const stream of workload.streams) stream.count = count;
  return workload;
}

async function labAfterWorkload(preset: string, count: number): Promise<Lab> {
  const lab = labClient(server.url, expectStatus(await api('POST', '/labs', { preset }), 201).id);
  const ran = expectStatus(await lab.post('/workloads', { workload: workloadOf(preset, count) }), 200);
  expect(ran.finished).toBe(true);
  return lab;
}

/** Starts a run of the preset and waits on its websocket until it ends; returns its id. */
async function runToEnd(preset: string, count: number): Promise<string> {
  const config = {
    version: 1,
    system: PRESETS.find((p) => p.id === preset)!.config,
    workload: workloadOf(preset, count),
    seed: 1,
  };
  const experiment = expectStatus(
    await api('POST', '/experiments', { name: preset, tags: [], config }),
    201,
  ).id;
  const run = expectStatus(await api('POST', `/experiments/${experiment}/runs`, {}), 202).id as string;
  await new Promise<void>((resolve, reject) => {
    const socket = new WebSocket(wsUrl(server.url, `${API}/runs/${run}/stream`));
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
  expect(expectStatus(await api('GET', `/runs/${run}`), 200).status).toBe('done');
  return run;
}

describe("a live lab's series", () => {
  it('sums over the bins to the lab metrics; a coarser width keeps the sums', async () => {
    const lab = await labAfterWorkload('sva-pri-vtd', 40);
    const metrics = expectStatus(await lab.get('/metrics'), 200).system;
    const answer = expectStatus(await lab.get('/series'), 200);
    expect(answer.bins).toBeGreaterThan(1);
    expect(answer.binNs % answer.resolutionNs).toBe(0);
    expect(answer.units.faultRate).toMatch(/count per bin/);
    expect(sum(answer.series.faultRate.pageRequests)).toBe(metrics.faults.pageRequests);
    expect(metrics.faults.pageRequests).toBeGreaterThan(0);
    expect(sum(answer.series.responses.SUCCESS)).toBe(metrics.faults.responses.SUCCESS);
    expect(sum(answer.series.translations.iotlbHits)).toBe(metrics.translations.iotlbHits);
    expect(Object.keys(answer.series.outstandingRequests)).toEqual(['nic0']);
    expect(answer.series.queueOccupancy['vtd0/PRQ'].length).toBe(answer.bins);

    const coarse = expectStatus(await lab.get(`/series?binNs=${answer.binNs * 4}`), 200);
    expect(coarse.binNs).toBe(answer.binNs * 4);
    expect(coarse.requestedBinNs).toBe(answer.binNs * 4);
    expect(sum(coarse.series.faultRate.pageRequests)).toBe(metrics.faults.pageRequests);
  });

  it('too many bins is a 422 that names the limit and changes nothing; a bad width is a 400', async () => {
    const lab = await labAfterWorkload('sva-pri-vtd', 20);
    const refused = await expectRefused(lab, () => lab.get('/series?binNs=1'), {
      status: 422,
      code: 'EINVAL',
      reason: 'too-many-bins',
    });
    expect(refused.message).toContain('10000 bins');
    await expectRefused(lab, () => lab.get('/series?binNs=0'), { status: 400, code: 'EVALIDATION' });
    await expectRefused(lab, () => lab.get('/series?binNs=ten'), { status: 400, code: 'EVALIDATION' });
  });

  it('an unknown lab is a 404', async () => {
    const missing = await api('GET', '/labs/no-such-lab/series');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'ENOENT', message: expect.any(String) });
  });
});

describe("a run's series", () => {
  it('is stored with the run at the emulator width and re-binned on request, sums kept', async () => {
    const run = await runToEnd('sva-pri-vtd', 60);
    const faults = expectStatus(await api('GET', `/runs/${run}/faults?limit=1`), 200);
    expect(faults.total).toBeGreaterThan(0);
    const view = expectStatus(await api('GET', `/runs/${run}`), 200);
    const answer: Body = expectStatus(await api('GET', `/runs/${run}/series`), 200);
    expect(answer.endNs).toBe(view.simulatedNs);
    expect(sum(answer.series.faultRate.pageRequests)).toBe(view.metrics.system.faults.pageRequests);
    expect(sum(answer.series.responses.SUCCESS)).toBe(view.metrics.system.faults.responses.SUCCESS);
    expect(answer.bins).toBeLessThanOrEqual(200);

    // Finer than stored: answered at the stored width, and says what was asked.
    const finest = expectStatus(await api('GET', `/runs/${run}/series?binNs=${answer.resolutionNs}`), 200);
    const finer = expectStatus(
      await api('GET', `/runs/${run}/series?binNs=${Math.max(1, answer.resolutionNs / 2)}`),
      200,
    );
    expect(finer.binNs).toBe(answer.resolutionNs);
    expect(finer.series).toEqual(finest.series);
    const coarse = expectStatus(await api('GET', `/runs/${run}/series?binNs=${finest.binNs * 3}`), 200);
    expect(coarse.binNs).toBe(finest.binNs * 3);
    expect(coarse.bins).toBe(Math.ceil(finest.bins / 3));
    expect(sum(coarse.series.faultRate.pageRequests)).toBe(sum(finest.series.faultRate.pageRequests));
    expect(Math.max(...coarse.series.queueOccupancy['vtd0/PRQ'])).toBe(
      Math.max(...finest.series.queueOccupancy['vtd0/PRQ']),
    );

    const tooMany = await api('GET', `/runs/${run}/series?binNs=1`);
    expect(tooMany.status).toBe(422);
    expect(tooMany.body).toMatchObject({ code: 'EINVAL', reason: 'too-many-bins' });
    expect(tooMany.body.message).toContain('10000 bins');
  });

  it('an unknown run is a 404; a run not done a 409; a run stored without series a 404, each with a sentence', async () => {
    expect((await api('GET', '/runs/no-such-run/series')).body).toMatchObject({
      statusCode: 404,
      code: 'ENOENT',
      reason: 'no-such-run',
    });
    const experiment = expectStatus(
      await api('POST', '/experiments', {
        name: 'old',
        tags: [],
        config: {
          version: 1,
          system: PRESETS[0]!.config,
          workload: workloadOf(PRESETS[0]!.id, 1),
          seed: 1,
        },
      }),
      201,
    ).id;
    const { runs } = server.app.db;
    const queued = await runs.create({ experimentId: experiment, seed: 1, label: 'queued', config: {} });
    const notDone = await api('GET', `/runs/${queued.id}/series`);
    expect(notDone.status).toBe(409);
    expect(notDone.body).toMatchObject({ code: 'ERUNSTATE', reason: 'run-not-done' });
    expect(notDone.body.message).toContain('queued');
    // A run that finished before runs stored series: done, with metrics but no series.
    const old = await runs.create({ experimentId: experiment, seed: 1, label: 'old', config: {} });
    await runs.start(old.id);
    await runs.finish(old.id, { metrics: {}, histograms: {} });
    const none = await api('GET', `/runs/${old.id}/series`);
    expect(none.status).toBe(404);
    expect(none.body).toMatchObject({ code: 'ENOENT', reason: 'no-series', message: expect.any(String) });
  });
});
