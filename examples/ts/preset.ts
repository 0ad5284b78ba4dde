/**
 * A scenario preset end to end with the typed client: a lab from the preset, its workload watched live on
 * the stream, the fault counts and latencies, then the lab deleted.
 *   npx tsx examples/ts/preset.ts sva-pri-vtd        (IOMMU_LAB_URL to use another server)
 */
import { createClient } from '@iommu-lab/client';

const presetId = process.argv[2];
if (!presetId) {
  console.error('usage: preset.ts <preset-id> (see GET /api/v1/presets)');
  process.exit(2);
}
const api = createClient({ baseUrl: process.env.IOMMU_LAB_URL ?? 'http://127.0.0.1:4100' });

const preset = (await api.presets()).find((p) => p.id === presetId);
if (!preset) throw new Error(`no preset ${presetId}`);
const lab = await api.labs.create({ preset: presetId });

// Watch the fault path's events on the stream while the workload runs (to its end: the lab is paused).
const kinds = ['fault.group', 'fault.response', 'stall.stalled'] as const;
const stream = api.stream(lab.id, { kinds: [...kinds] });
await stream.ready;
const result = await api.workload(lab.id, { workload: preset.workload as never });
const expected = kinds.reduce((sum, kind) => sum + (result.eventsByKind[kind] ?? 0), 0);
const seen: Record<string, number> = {};
let received = 0;
for await (const message of stream) {
  if (message.type === 'events') {
    for (const event of message.events) seen[event.kind] = (seen[event.kind] ?? 0) + 1;
    received += message.events.length + message.dropped;
  } else if (message.type === 'dropped') received += message.count;
  if (received >= expected) break;
}
stream.close();

const { system } = (await api.metrics(lab.id)) as {
  system: { faults: { pageRequests: number; stalls: number; latencyNs: { p50: number; p99: number } } };
};
console.log(
  `${presetId}: ${result.progress.completed}/${result.progress.total} transactions completed, ` +
    `${system.faults.pageRequests} page requests, ${system.faults.stalls} stalls, ` +
    `fault latency p50 ${system.faults.latencyNs.p50} ns p99 ${system.faults.latencyNs.p99} ns; ` +
    `streamed ${JSON.stringify(seen)}`,
);
await api.labs.delete(lab.id);
