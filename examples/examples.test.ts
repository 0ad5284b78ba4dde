/** Every example, run as a user would, against a real server on a real port. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESETS } from '@iommu-lab/emulator';
import { type Running, startServer } from '../apps/api/src/testing/harness';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));

/** One server for every example; each example cleans up the lab it makes. */
let server: Running;
const env = () => ({ ...process.env, IOMMU_LAB_URL: server.url });
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

/** The total of a preset's workload, as every preset example prints it. */
function presetTotal(id: string): number {
  return PRESETS.find((p) => p.id === id)!.workload.streams.reduce((sum, stream) => sum + stream.count, 0);
}

describe('curl examples', () => {
  it.each(PRESETS.map((preset) => preset.id))(
    'preset.sh %s runs the preset and reports its faults',
    async (id) => {
      const { stdout } = await run('bash', ['curl/preset.sh', id], { cwd: here, env: env() });
      const total = presetTotal(id);
      expect(stdout).toMatch(new RegExp(`^${id}: \\d+/${total} transactions completed, \\d+ page requests`));
      // The lab it made is gone again.
      expect(((await (await fetch(`${server.url}/api/v1/labs`)).json()) as unknown[]).length).toBe(0);
    },
  );

  it('sweep.sh sweeps PRI capacity and prints one comparison table', async () => {
    const { stdout } = await run('bash', ['curl/sweep.sh'], { cwd: here, env: env() });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^metric\s+pri\.capacity=2\s+pri\.capacity=8\s+pri\.capacity=32$/);
    const waits = lines
      .find((line) => line.startsWith('/system/faults/creditWaits'))!
      .split(/\s+/)
      .slice(1)
      .map(Number);
    expect(waits).toHaveLength(3);
    // Less PRI credit, more waiting for it.
    expect(waits[0]).toBeGreaterThan(waits[2]!);
  });

  it('a refused call makes the script fail with the API’s answer', async () => {
    const failed = run('bash', ['curl/preset.sh', 'no-such-preset'], { cwd: here, env: env() });
    await expect(failed).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^error: \{"statusCode":4\d\d,"code":"E[A-Z]+"/),
    });
  });
});

describe('TypeScript examples (on the typed client)', () => {
  const tsx = (script: string, ...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', script, ...args], { cwd: here, env: env() });

  it.each(PRESETS.map((preset) => preset.id))(
    'ts/preset.ts %s streams the preset’s faults and reports them',
    async (id) => {
      const { stdout } = await tsx('ts/preset.ts', id);
      const total = presetTotal(id);
      expect(stdout).toMatch(new RegExp(`^${id}: \\d+/${total} transactions completed, \\d+ page requests`));
      const streamed = JSON.parse(/streamed (\{.*\})$/m.exec(stdout)![1]!) as Record<string, number>;
      const requests = Number(/(\d+) page requests/.exec(stdout)![1]);
      const stalls = Number(/(\d+) stalls/.exec(stdout)![1]);
      // Every page request group and stall the run had came over the stream.
      if (requests > 0) expect(streamed['fault.group']).toBeGreaterThan(0);
      if (stalls > 0) expect(streamed['stall.stalled']).toBe(stalls);
    },
  );

  it('ts/sweep.ts sweeps PRI capacity and prints one comparison table', async () => {
    const { stdout } = await tsx('ts/sweep.ts');
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^metric\s+pri\.capacity=2\s+pri\.capacity=8\s+pri\.capacity=32$/);
    const waits = lines
      .find((line) => line.startsWith('/system/faults/creditWaits'))!
      .split(/\s+/)
      .slice(1)
      .map(Number);
    expect(waits[0]).toBeGreaterThan(waits[2]!);
  });

  it.each(['nested', 'paging'])(
    'ts/vmm.ts %s reads the fault fd, maps each page, answers each group, and the DMAs complete',
    async (mode) => {
      const { stdout } = await tsx('ts/vmm.ts', mode);
      const lines = stdout.trim().split('\n');
      // A 3-page write is one group of three records under one cookie; a 1-page write another group, whose
      // cookie is 1 again when the first was answered before it was read (the lowest free cookie).
      expect(lines.slice(0, 2)).toEqual([
        expect.stringMatching(
          /^group \d+ dev_id 1 cookie 1 ends at 0x[0-9a-f]+2000: mapped, SUCCESS \(8 bytes\)$/,
        ),
        expect.stringMatching(
          /^group \d+ dev_id 1 cookie [12] ends at 0x[0-9a-f]+: mapped, SUCCESS \(8 bytes\)$/,
        ),
      ]);
      expect(lines[2]).toBe(`${mode}: 2/2 DMAs completed, 2 groups answered`);
      expect(((await (await fetch(`${server.url}/api/v1/labs`)).json()) as unknown[]).length).toBe(0);
    },
  );
});
