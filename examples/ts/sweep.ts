/**
 * A parameter sweep with the typed client: an experiment from a preset, swept over the device's PRI
 * capacity on the server's worker pool (or BullMQ when the server has REDIS_URL), one comparison table.
 *   npx tsx examples/ts/sweep.ts [preset-id]
 */
import { createClient } from '@iommu-lab/client';

const presetId = process.argv[2] ?? 'sva-pri-vtd';
const api = createClient({ baseUrl: process.env.IOMMU_LAB_URL ?? 'http://127.0.0.1:4100' });

const preset = (await api.presets()).find((p) => p.id === presetId)!;
const experiment = await api.experiments.create({
  name: `${presetId} PRI sweep`,
  config: { version: 1, system: preset.config as never, workload: preset.workload as never, seed: 1 },
});
const started = await api.sweeps.start(experiment.id, {
  parameters: [{ path: '/system/devices/0/pri/capacity', values: [2, 8, 32] }],
});
const sweep = await api.sweeps.waitFor(started.id);
const comparison = await api.compare(sweep.runs.map((run) => run.id));

console.log(['metric'.padEnd(34), ...comparison.runs.map((run) => run.label.padStart(18))].join(''));
for (const path of [
  '/system/faults/creditWaits',
  '/system/faults/latencyNs/p99',
  '/system/dmaLatencyNs/p99',
]) {
  const metric = comparison.metrics.find((m) => m.path === path)!;
  console.log([path.padEnd(34), ...metric.values.map((v) => String(v).padStart(18))].join(''));
}
