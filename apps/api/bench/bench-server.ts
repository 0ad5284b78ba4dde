/** The server every benchmark measures: the real one, on a new database file of its own. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkloadSpec } from '@iommu-lab/emulator';
import { type ServerOptions, buildServer } from '../src/server';

export type BenchServer = Awaited<ReturnType<typeof buildServer>>;

export function benchServer(options: Partial<ServerOptions> = {}): Promise<BenchServer> {
  return buildServer({
    databaseFile: join(mkdtempSync(join(tmpdir(), 'iommu-lab-bench-')), 'lab.db'),
    ...options,
  });
}

/** A lab on `app` built from a preset (the benches measure passthrough-pinned); its id. */
export async function presetLab(app: BenchServer, preset = 'passthrough-pinned'): Promise<string> {
  const created = await app.inject({ method: 'POST', url: '/api/v1/labs', payload: { preset } });
  return (created.json() as { id: string }).id;
}

/** Starts a workload on a lab and answers at once (the lab's clock decides when it runs). */
export async function startWorkload(app: BenchServer, lab: string, workload: unknown): Promise<void> {
  await app.inject({
    method: 'POST',
    url: `/api/v1/labs/${lab}/workloads`,
    payload: { workload, wait: false },
  });
}

/** DMA as fast as passthrough-pinned's vf0 goes, for longer than any bench lasts: a lab streaming flat out. */
export const flood: WorkloadSpec = {
  streams: [
    {
      device: 'vf0',
      pattern: 'sequential',
      base: '0x0',
      workingSet: 64 * 1024 * 1024,
      count: 50_000_000,
      concurrency: 16,
    },
  ],
};
