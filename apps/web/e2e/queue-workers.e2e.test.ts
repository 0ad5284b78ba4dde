/**
 * End to end (issue 15, queue workers): a sweep of four runs on the BullMQ engine (a real redis-server),
 * taken by the server's own queue worker. While it runs, the Workers panel lists that worker as connected,
 * in the server, with a run in hand; at the end the sweep's block charts the worker with its four runs done,
 * and an opened run says it ran on that worker. A server without a queue says there is none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkloadSpec } from '@iommu-lab/client';
import { REDIS_SERVER } from '../../api/src/testing/debian-package';
import { type RedisProcess, startRedis } from '../../api/src/testing/redis';
import { CHROMIUM, STEP_MS, requireDebianPackage, useDashboard } from './dashboard';

const browserPackage = requireDebianPackage('queue workers, end to end', CHROMIUM);
const redisPackage = requireDebianPackage('queue workers, end to end', REDIS_SERVER);

describe.skipIf(!browserPackage.present || !redisPackage.present)(
  'a sweep on the queue, its worker and its runs, in Chromium',
  () => {
    let redis: RedisProcess;
    // Before the dashboard's own beforeAll, which starts the server on this redis-server (and after its
    // afterAll, which stops the server first).
    beforeAll(async () => {
      redis = await startRedis();
    });
    afterAll(() => redis?.stop());
    // One run at a time, so that the sweep lasts long enough to be seen running.
    const dash = useDashboard({ server: () => ({ redisUrl: redis.url, parallelRuns: 1 }) });

    it(
      'lists the server’s queue worker with a run while the sweep runs, then charts its four runs done',
      async () => {
        const preset = (await dash.client.presets()).find((p) => p.id === 'sva-pri-vtd')!;
        const workload = structuredClone(preset.workload) as WorkloadSpec;
        // Long enough (a few seconds a run, one at a time) for the panel, read once a second, to see a run.
        for (const stream of workload.streams) stream.count = 6000;
        const experiment = await dash.client.experiments.create({
          name: 'on-the-queue',
          config: { version: 1, system: preset.config, workload, seed: 1 } as never,
        });
        const sweep = await dash.client.sweeps.start(experiment.id, {
          parameters: [{ path: '/seed', values: [1, 2, 3, 4] }],
          engine: 'bullmq',
        });
        await dash.page.goto(`${dash.base}#/experiments`);
        await dash.page.getByTestId('view-experiments').waitFor();
        await dash.page.getByTestId('experiment-on-the-queue').click();

        // The server's own worker, as the API lists it; the panel shows the same one.
        await expect
          .poll(async () => (await dash.client.workers()).workers.some((w) => w.inServer))
          .toBe(true);
        const own = (await dash.client.workers()).workers.find((w) => w.inServer)!;
        const panel = dash.page.getByTestId('workers-panel');
        const row = panel.locator(`[data-testid="worker-row"][data-worker="${own.id}"]`);
        await expect.poll(() => row.getByTestId('worker-state').textContent()).toBe('connected');
        expect(await row.getByTestId('worker-in-server').isVisible()).toBe(true);
        expect(await row.getByTestId('worker-emulator').textContent()).toBe(own.version.emulator);
        await expect.poll(() => row.getByTestId('worker-run').count()).toBeGreaterThan(0);
        expect(await row.getByTestId('worker-run-progress').first().textContent()).toMatch(/^\d+ %$/);
        expect(await panel.getByTestId('workers-queue').textContent()).toBe('queue ready');
        await dash.shot('queue-workers-running');

        const ended = await dash.client.sweeps.waitFor(sweep, { timeoutMs: 50_000, pollMs: 200 });
        expect(ended.status).toBe('done');
        const block = dash.page.locator(`[data-testid="sweep-block"][data-sweep="${sweep.id}"]`);
        await expect.poll(() => block.getByTestId('sweep-status').textContent()).toBe('done');
        const bar = block.locator(`[data-testid="sweep-workers-bar"][data-key="${own.id}"]`);
        expect(await bar.locator('[data-segment="done"]').getAttribute('data-count')).toBe('4');
        expect(await bar.locator('[data-segment]').count()).toBe(1);
        const label = block.locator(`[data-testid="sweep-workers-label"][data-key="${own.id}"]`);
        expect(await label.getByTestId('sweep-workers-note').textContent()).toBe('4 runs, 100 %');

        const runs = dash.page.locator(`[data-testid="sweep-runs"][data-sweep="${sweep.id}"]`);
        const first = ended.runs[0]!;
        await expect
          .poll(() => runs.getByTestId(`run-${first.label}`).getByTestId('run-worker').textContent())
          .toBe(`ran on ${own.id}`);
        await runs.getByTestId(`open-${first.label}`).click();
        const result = dash.page.getByTestId('run-result');
        expect((await result.getByTestId('run-worker').textContent())!.trim()).toBe(`ran on ${own.id}`);
        // One attempt: no attempts list.
        expect(await result.getByTestId('run-attempts').count()).toBe(0);
        await dash.shot('queue-workers-sweep-done');
      },
      STEP_MS,
    );

    it('raised no errors in the page', () => {
      expect(dash.pageErrors).toEqual([]);
    });
  },
);

describe.skipIf(!browserPackage.present)(
  'the Workers panel of a server without a job queue, in Chromium',
  () => {
    const dash = useDashboard();

    it('says there is no queue and how to have one', async () => {
      await dash.page.goto(`${dash.base}#/experiments`);
      const note = dash.page.getByTestId('workers-panel').getByTestId('workers-no-queue');
      await note.waitFor();
      expect((await note.textContent())!.trim()).toBe(
        'No job queue: start the server with REDIS_URL to use queue workers.',
      );
      expect(dash.pageErrors).toEqual([]);
    });
  },
);
