/**
 * A queue worker as its own process (`npm run worker`'s command: tsx src/worker.ts), started in a working
 * directory of its own with nothing but REDIS_URL and the given settings: what a second machine runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const API_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(API_ROOT, '../../node_modules/.bin/tsx');
const ENTRY = join(API_ROOT, 'src/worker.ts');

export interface WorkerProcess {
  /** The worker's id, as GET /workers lists it. */
  id: string;
  /** The worker's own process (tsx runs it in a child of the one spawned here). */
  pid: number;
  /** Sends `signal` to the worker's own process (SIGKILL: no goodbye, no cleanup). */
  kill(signal: NodeJS.Signals): void;
  /** Its working directory (empty: the worker keeps no files). */
  dir: string;
  child: ChildProcess;
  /** Everything it printed. */
  output(): string;
  /** Resolves with the exit code (or signal name) of the spawned process when it ends. */
  exited: Promise<number | string>;
  stop(): Promise<void>;
}

/** Starts a worker and resolves once it says it takes jobs; rejects if it exits first. */
export function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'iommu-lab-worker-'));
  const child = spawn(TSX, [ENTRY], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return new Promise((resolve, reject) => {
    const started = (chunk: Buffer) => {
      const match = /iommu-lab queue worker (\S+): /.exec(out + String(chunk));
      if (!match) return;
      child.stdout!.off('data', started);
      const pid = Number(match[1]!.split(':')[1]);
      resolve({
        id: match[1]!,
        pid,
        kill: (signal) => process.kill(pid, signal),
        dir,
        child,
        output: () => out,
        exited,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout!.on('data', started);
    void exited.then((code) => reject(new Error(`the worker exited (${code}) before it started: ${out}`)));
  });
}
