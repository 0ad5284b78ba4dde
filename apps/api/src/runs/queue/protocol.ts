/**
 * What travels through Redis between the server and queue workers, beside BullMQ's own queue: the keys,
 * the result messages a worker sends for each run, the server's acknowledgements, and the versions a job
 * needs. A worker needs only REDIS_URL: it never opens the database, the server is its only writer.
 *
 * A worker numbers each attempt at a run (INCR on the run's attempt key, so numbers rise across workers),
 * and sends the run's messages in order on the results stream, each with an id unique to the attempt
 * (`run/attempt/seq`). The server applies a message to the database, then acknowledges it on the worker's
 * ack list; a batch is acknowledged only once it is committed, and applying one twice writes nothing twice
 * (FaultLog.appendAttempt skips rows already on disk).
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXPERIMENT_CONFIG_VERSION, type WorkerVersionType } from '@iommu-lab/wire';
import type { FaultRow, RunProgress, RunStop } from '@iommu-lab/db';
import type { RunResults } from '../run-manager';

/** The BullMQ queue of runs. */
export const QUEUE_NAME = 'iommu-lab-runs';

/** Bumped when a message, a key or the job's data changes shape. */
export const PROTOCOL = 2;

const PREFIX = 'iommu-lab';
export const KEYS = {
  /** The stream of result messages from every worker; the server reads it in its consumer group. */
  results: `${PREFIX}:results`,
  resultsGroup: 'server',
  /** A worker's acknowledgements (a list the worker pops). */
  acks: (worker: string) => `${PREFIX}:acks:${worker}`,
  /** The run's attempt counter. */
  attempt: (run: string) => `${PREFIX}:attempt:${run}`,
  /** Workers that registered and have not said goodbye (a set of ids). */
  workers: `${PREFIX}:workers`,
  /** A worker's heartbeat: its WorkerBeat, expiring when heartbeats stop. */
  beat: (worker: string) => `${PREFIX}:worker:${worker}`,
} as const;

interface Envelope {
  protocol: number;
  /** `run/attempt/seq`: what the ack names. */
  id: string;
  worker: string;
  run: string;
  attempt: number;
}

export type ResultMessage = Envelope &
  (
    | { op: 'start' }
    | { op: 'batch'; rows: FaultRow[]; progress: RunProgress }
    | { op: 'finish'; results: RunResults }
    /** `stop`: the emulator's rules ended the run (a livelock, with its counts up to the stop; a refusal). */
    | { op: 'end'; status: 'failed' | 'interrupted'; error: string; stop?: RunStop }
    /** The worker will not run it (its versions differ from the job's); the run waits for another. */
    | { op: 'refuse'; reason: string }
  );

export type Ack =
  | { id: string; ok: true; /** start: the fault records on disk */ records?: number }
  | { id: string; ok: false; code: string; message: string };

/** A BullMQ job: one run, and the versions a worker must have to run it. */
export interface RunJob {
  run: string;
  config: import('@iommu-lab/wire').ExperimentConfig;
  seed: number;
  needs: WorkerVersionType;
}

/** What a worker writes at each heartbeat (GET /workers reads it). */
export interface WorkerBeat {
  id: string;
  host: string;
  pid: number;
  cores: number;
  concurrency: number;
  version: WorkerVersionType;
  startedAt: string;
  lastSeenAt: string;
  inServer: boolean;
  runs: { run: string; attempt: number; progress: number }[];
}

/**
 * The emulator's version: its package version and a digest of its sources, since a run's records depend
 * on the code, and the package version is not bumped for every change. Server and workers of one commit
 * agree; a worker of another refuses the job.
 */
function emulatorVersion(): string {
  const root = fileURLToPath(new URL('../../../../../packages/emulator/', import.meta.url));
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
        hash.update(entry.name).update(readFileSync(path));
    }
  };
  walk(join(root, 'src'));
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  return `${version}+${hash.digest('hex').slice(0, 12)}`;
}

let own: WorkerVersionType | undefined;
/** This process's versions (computed once). */
export function ownVersion(): WorkerVersionType {
  own ??= { protocol: PROTOCOL, configVersion: EXPERIMENT_CONFIG_VERSION, emulator: emulatorVersion() };
  return own;
}

/** Why a worker with `have` cannot run a job that needs `needs`, or null when it can. */
export function incompatibility(needs: WorkerVersionType, have: WorkerVersionType): string | null {
  const differs = (['protocol', 'configVersion', 'emulator'] as const).filter(
    (key) => needs[key] !== have[key],
  );
  if (differs.length === 0) return null;
  const list = differs
    .map((key) => `${key} ${String(have[key])} (the job needs ${String(needs[key])})`)
    .join(', ');
  return `this worker's versions differ from the server's: ${list}; run a worker of the server's version`;
}
