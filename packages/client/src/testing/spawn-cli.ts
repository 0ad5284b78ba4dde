/** The CLI as a user runs it: bin/iommu-lab.mjs in a process of its own, with no URL or token from the environment. */
import { spawn } from 'node:child_process';

const BIN = new URL('../../bin/iommu-lab.mjs', import.meta.url).pathname;

export function spawnCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, IOMMU_LAB_URL: '', IOMMU_LAB_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}
