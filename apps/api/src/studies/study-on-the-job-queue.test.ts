/**
 * A study on the BullMQ engine, through a real redis-server: the server's queue worker runs each run and
 * sends its results back through Redis (runs/queue/). What the emulator's rules ended travels too: a run
 * stopped as a livelock keeps its counts up to the stop (the queue's end message carries them), and a run
 * its kernel profile refused keeps the emulator's reason; both are answers, and the study is done.
 */
import { describe, expect, it } from 'vitest';
import { REDIS_SERVER, requireDebianPackage } from '../testing/debian-package';
import { serverOnQueue } from '../testing/redis';
import { builtinStudy, runStudy, studyData } from '../testing/studies';

const redisPackage = requireDebianPackage('a study on the job queue', REDIS_SERVER);
const LOST = 'page requests lost per delivered fault (requests)';

describe.skipIf(!redisPackage.present)('a study on the job queue', () => {
  const queue = serverOnQueue();

  it('brings back a livelock with its counts and a refusal with its reason', async () => {
    const { server } = queue;
    const study = await builtinStudy(server, 'pri-credits');
    // 64 devices, a quarter of the work, under mainline and under seed-5.13 (which refuses a bind alone).
    const many = study.experiments.find((e: { label: string }) => e.label === '64 devices');
    for (const stream of many.config.workload.streams) stream.count /= 4;
    const seed = structuredClone(many);
    seed.label = '64 devices, seed-5.13';
    seed.config.system.iommus[0].profile = 'seed-5.13';
    study.experiments = [many, seed];
    study.charts = [study.charts[0]];

    const { started, done } = await runStudy(server, {
      study,
      engine: 'bullmq',
      set: {
        '/system/devices/*/pri/capacity': [8, 128],
        '/system/iommus/0/capabilities/pageRequestQueueDepth': [32],
      },
    });
    expect(started).toMatchObject({ engine: 'bullmq', runs: 4 });
    expect(done).toMatchObject({ status: 'done', done: 4, outcomes: { done: 1, livelock: 1, refused: 2 } });

    const { rows } = await studyData(server, done);
    const at = (experiment: string, capacity: number) =>
      rows.find(
        (r) => r.experiment === experiment && Number(r['PRI capacity per device (requests)']) === capacity,
      )!;
    expect(at('64 devices', 8).outcome).toBe('done');
    const storm = at('64 devices', 128);
    expect(storm.outcome).toBe('livelock');
    expect(Number(storm[LOST])).toBeGreaterThan(256);
    for (const capacity of [8, 128]) {
      const refused = at('64 devices, seed-5.13', capacity);
      expect(refused.outcome).toBe('refused');
      // The emulator's own words, as on the server's pool: the intake's count on disk is for the machine's failures.
      expect(refused.reason).toBe(
        'ECONFIG: config /bindings/0: SVA is not enabled on nic0; enable the SVA feature first.',
      );
    }
  }, 180_000);
});
