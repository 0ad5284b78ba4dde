/** What the queue-worker suites share: short timings, a worker's environment, waiting, and a faulting run. */
import type { QueueTiming } from '../runs/queue/policy';
import { type Running, call } from './harness';

const API = '/api/v1';

/** A worker's environment for `timing`: only REDIS_URL and the settings, one run at a time. */
export function workerEnv(redisUrl: string, timing: QueueTiming): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    IOMMU_LAB_QUEUE_LOCK_MS: String(timing.lockMs),
    IOMMU_LAB_WORKER_HEARTBEAT_MS: String(timing.heartbeatMs),
    IOMMU_LAB_REDIS_LOSS_MS: String(timing.lossMs),
    IOMMU_LAB_WORKER_CONCURRENCY: '1',
  };
}

/** Reads until `done` holds, every 50 ms; after `ms`, throws with what it read last. */
export async function until<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  ms = 60_000,
) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value).slice(0, 400)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Preset {
  id: string;
  config: { processes: { vmas: { size: number }[] }[] };
  workload: { streams: { count: number; workingSet: number; accessSize: number }[] };
}

/**
 * An experiment of SVA with PRI on VT-d (preset sva-pri-vtd): `transactions` random accesses of
 * `accessBytes` over `spanMiB` of the process, each first touch of a page a fault; its id.
 */
export async function firstTouchExperiment(
  server: Running,
  name: string,
  {
    transactions,
    spanMiB = 16,
    accessBytes = 16 * 1024,
  }: { transactions: number; spanMiB?: number; accessBytes?: number },
): Promise<string> {
  const presets = (await call(server.url, 'GET', `${API}/presets`)).body as Preset[];
  const preset = presets.find((p) => p.id === 'sva-pri-vtd')!;
  Object.assign(preset.workload.streams[0]!, {
    count: transactions,
    workingSet: spanMiB << 20,
    accessSize: accessBytes,
  });
  const vma = preset.config.processes[0]!.vmas[0]!;
  vma.size = Math.max(vma.size, spanMiB << 20);
  const created = await call(server.url, 'POST', `${API}/experiments`, {
    name,
    config: { version: 1, system: preset.config, workload: preset.workload, seed: 1 },
  });
  return created.body.id as string;
}
