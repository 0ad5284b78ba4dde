/** The server every benchmark measures: the real one, on a new database file of its own. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServerOptions, buildServer } from '../src/server';

export type BenchServer = Awaited<ReturnType<typeof buildServer>>;

export function benchServer(options: Partial<ServerOptions> = {}): Promise<BenchServer> {
  return buildServer({
    databaseFile: join(mkdtempSync(join(tmpdir(), 'iommu-lab-bench-')), 'lab.db'),
    ...options,
  });
}
