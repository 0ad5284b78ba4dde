/**
 * The workload panel's state: the workload last started and its progress to the end. A paused lab runs
 * it to the end before answering; on a running lab the answer comes at once (waitMs 0) and the store
 * follows the workload (GET /labs/:lab/workloads/:id) while the live clock carries it out, so the panel's
 * progress bar moves until it ends. Starting another workload, or showing another lab, stops following.
 */
import { api, describeError } from '../lib/client';
import type { WorkloadResult as WorkloadOutcome, WorkloadSpec } from '@iommu-lab/client';
import { labStore } from './lab.svelte';

type Failure = { code: string; message: string; reason?: string };

/** What the store needs of the API and of the shown lab (the real ones, or a test's). */
export interface WorkloadClient {
  lab: () => string | null;
  start: (lab: string, spec: WorkloadSpec, wait: boolean) => Promise<WorkloadOutcome>;
  progress: (lab: string, workload: string) => Promise<WorkloadOutcome>;
  /** Waits before the next progress read. */
  pause: () => Promise<void>;
}

export const FOLLOW_INTERVAL_MS = 250;

export class WorkloadStore {
  /** The start request is in flight. */
  busy = $state(false);
  /** Progress reads go on (the workload has not ended yet). */
  following = $state(false);
  outcome = $state<WorkloadOutcome | null>(null);
  error = $state<Failure | null>(null);
  /** Bumped by each start: an older workload's follower stops when it sees a newer one. */
  private generation = 0;

  constructor(private readonly client: WorkloadClient) {}

  /** Starts a workload and follows it to its end; resolves when it has ended or been superseded. */
  async run(spec: WorkloadSpec, wait: boolean): Promise<void> {
    const generation = ++this.generation;
    const lab = this.client.lab();
    this.busy = true;
    this.following = false;
    this.error = null;
    this.outcome = null;
    try {
      if (lab === null) throw new Error('Create or pick a lab first.');
      let outcome = await this.client.start(lab, spec, wait);
      this.outcome = outcome;
      this.busy = false;
      this.following = !outcome.finished;
      while (!outcome.finished) {
        await this.client.pause();
        if (generation !== this.generation || this.client.lab() !== lab) return;
        outcome = await this.client.progress(lab, outcome.id);
        if (generation !== this.generation) return;
        this.outcome = outcome;
      }
    } catch (error) {
      if (generation === this.generation) this.error = describeError(error);
    } finally {
      if (generation === this.generation) {
        this.busy = false;
        this.following = false;
      }
    }
  }
}

export const workloadStore = new WorkloadStore({
  lab: () => labStore.id,
  // A running lab answers at once and is followed; a paused one runs the workload to the end first.
  start: (lab, spec, wait) => labStore.act(() => api.workload(lab, { workload: spec, wait, waitMs: 0 })),
  progress: (lab, workload) => api.workloadProgress(lab, workload),
  pause: () => new Promise((resolve) => setTimeout(resolve, FOLLOW_INTERVAL_MS)),
});
