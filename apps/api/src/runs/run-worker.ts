/**
 * One run, in a worker thread so the server stays responsive: builds the experiment's system with the
 * run's seed, runs its workload to the end, and sends fault records in batches with the progress. A
 * workload the emulator stops as a livelock (a page request queue overflow storm) fails the run with the
 * livelock's figures and metrics, after the records it made so far. The emulator never waits for the
 * database: the main thread writes each batch and acknowledges it, and the worker runs ahead by at most
 * MAX_UNACKED batches, which bounds the memory a fast run can take.
 */
import { parentPort } from 'node:worker_threads';
import { type SimSeriesAnswer, describeLivelock, isEmulatorError } from '@iommu-lab/emulator';
import type { ExperimentConfig } from '@iommu-lab/wire';
import type { FaultRow, RunProgress, RunStop } from '@iommu-lab/db';
import { experimentSystem } from './experiment-system';
import { FaultCollector } from './fault-collector';
import { type Trace, traceRun } from './trace';

export type ToWorker =
  /** `skipRows`: the run's first records are on disk already (a resumed run); they are not sent again. */
  | { type: 'start'; config: ExperimentConfig; seed: number; skipRows: number }
  | { type: 'trace'; run: string; config: ExperimentConfig; seed: number; maxEvents?: number }
  | { type: 'ack' };
export type FromWorker =
  | { type: 'batch'; rows: FaultRow[]; progress: RunProgress }
  | {
      type: 'done';
      rows: FaultRow[];
      progress: RunProgress;
      metrics: unknown;
      histograms: Record<string, [number, number][]>;
      /** The series in simulated time at the emulator's stored width (GET /runs/:run/series re-bins it). */
      series: SimSeriesAnswer;
    }
  | { type: 'trace'; trace: Trace }
  /**
   * `stoppedBy`: the emulator's rules ended the run (a livelock, a refusal), not the machine. `rows`,
   * `progress` and `metrics`: what the run did before it failed, when it got that far (a livelock: its
   * counts up to the stop are the storm's figures, which a study charts).
   */
  | {
      type: 'failed';
      error: string;
      stoppedBy?: RunStop['by'];
      rows?: FaultRow[];
      progress?: RunProgress;
      metrics?: unknown;
    };

const BATCH_ROWS = 10_000;
const MAX_UNACKED = 4;
const EVENTS_PER_SLICE = 20_000;
/** Progress is sent at least this often (wall ms) even when no fault happens. */
const PROGRESS_MS = 200;

const port = parentPort!;
let unacked = 0;
let wake: (() => void) | null = null;

port.on('message', (message: ToWorker) => {
  if (message.type === 'ack') {
    unacked--;
    wake?.();
  } else if (message.type === 'trace') {
    port.postMessage({
      type: 'trace',
      trace: traceRun(message.run, message.config, message.seed, message.maxEvents),
    } satisfies FromWorker);
  } else {
    run(message.config, message.seed, message.skipRows).catch((error: unknown) =>
      port.postMessage({ type: 'failed', ...failure(error) } satisfies FromWorker),
    );
  }
});

/**
 * Why the run failed. The emulator's own refusals (a step the kernel profile does not have, a config the
 * rules reject) say so in `stoppedBy`, and keep their code in front ("ECONFIG: config /features/0: …").
 */
function failure(error: unknown): { error: string; stoppedBy?: 'refusal' } {
  if (isEmulatorError(error)) return { error: `${error.code}: ${error.message}`, stoppedBy: 'refusal' };
  return { error: error instanceof Error ? error.message : String(error) };
}

/** After each batch sent: waits once MAX_UNACKED of them wait for the main thread to write them. */
async function acked(): Promise<void> {
  if (++unacked >= MAX_UNACKED) await new Promise<void>((resolve) => (wake = resolve));
}

async function run(config: ExperimentConfig, seed: number, skipRows: number): Promise<void> {
  unacked = 0; // a worker runs one experiment after another
  const system = experimentSystem(config, seed);
  const collector = new FaultCollector(system, skipRows);
  const workload = system.runWorkload(config.workload);
  const progress = (): RunProgress => ({
    transactions: workload.progress.ended,
    totalTransactions: workload.progress.total,
    simulatedNs: system.nowNs,
  });
  /**
   * Sends the records in batches of at most BATCH_ROWS, waiting for acks past MAX_UNACKED; `all` sends the
   * last, short one too. One slice of an overflow storm makes hundreds of thousands of records, and the
   * main thread writes each batch synchronously: a bounded batch keeps it answering requests meanwhile.
   */
  const send = async (all: boolean) => {
    while (collector.rows.length >= BATCH_ROWS || (all && collector.rows.length > 0)) {
      port.postMessage({
        type: 'batch',
        rows: collector.take(BATCH_ROWS),
        progress: progress(),
      } satisfies FromWorker);
      await acked();
    }
  };
  let lastSent = performance.now();
  while (!workload.finished) {
    const ran = system.runUntilIdle(EVENTS_PER_SLICE);
    const { livelock } = system;
    if (livelock !== null) {
      const { iommu, queue, atNs, ...figures } = livelock;
      await send(false);
      port.postMessage({
        type: 'failed',
        stoppedBy: 'livelock',
        error: `${describeLivelock(iommu, queue, atNs, figures)}; ${workload.progress.ended} of ${workload.progress.total} transactions had ended.`,
        rows: collector.take(),
        progress: progress(),
        metrics: system.metrics(),
      } satisfies FromWorker);
      return;
    }
    if (ran === 0 && !workload.finished)
      throw new Error(
        `the workload cannot finish: nothing is left to simulate after ${workload.progress.ended} of ${workload.progress.total} transactions ended`,
      );
    if (collector.rows.length >= BATCH_ROWS || performance.now() - lastSent >= PROGRESS_MS) {
      // Progress even when no fault happened: an empty batch.
      if (collector.rows.length === 0) {
        port.postMessage({ type: 'batch', rows: [], progress: progress() } satisfies FromWorker);
        await acked();
      } else await send(true);
      lastSent = performance.now();
    }
  }
  system.runUntilIdle();
  await send(false);
  port.postMessage({
    type: 'done',
    rows: collector.take(),
    progress: progress(),
    metrics: system.metrics(),
    histograms: system.histograms(),
    series: system.series({ binNs: 'stored' }),
  } satisfies FromWorker);
}
