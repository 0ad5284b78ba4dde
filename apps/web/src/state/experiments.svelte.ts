/**
 * Experiments and their runs: the list, the one selected, its runs with live progress (each active run's
 * websocket), and the runs picked for comparison (they may come from different experiments).
 */
import type {
  CompareResult,
  ExperimentFile,
  ExperimentView as Experiment,
  JsonSocket,
  RunMessage,
  RunView,
  SaveLabBody as SaveLab,
} from '@iommu-lab/client';
import { api, describeError } from '../lib/client';
import type { Failure } from './action.svelte';

export class ExperimentsStore {
  list = $state<Experiment[]>([]);
  selectedId = $state<string | null>(null);
  runs = $state<RunView[]>([]);
  /** Runs picked for comparison, in the order picked. */
  picked = $state<{ id: string; label: string }[]>([]);
  comparison = $state<CompareResult | null>(null);
  compareError = $state<Failure | null>(null);
  openRunId = $state<string | null>(null);
  error = $state<Failure | null>(null);

  readonly selected = $derived(this.list.find((e) => e.id === this.selectedId) ?? null);
  readonly openRun = $derived(this.runs.find((r) => r.id === this.openRunId) ?? null);

  // Bookkeeping, not state any view shows.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private sockets = new Map<string, JsonSocket<RunMessage>>();

  async load(): Promise<void> {
    try {
      this.list = await api.experiments.list();
      if (this.selectedId && !this.list.some((e) => e.id === this.selectedId)) this.selectedId = null;
      if (this.selectedId) await this.loadRuns();
      this.error = null;
    } catch (error) {
      this.error = describeError(error);
    }
  }

  async select(id: string): Promise<void> {
    this.selectedId = id;
    this.openRunId = null;
    await this.loadRuns();
  }

  async loadRuns(): Promise<void> {
    const id = this.selectedId;
    if (!id) return;
    const runs = await api.runs.list(id);
    if (id !== this.selectedId) return;
    this.runs = runs;
    for (const run of runs) if (run.status === 'queued' || run.status === 'running') this.follow(run.id);
  }

  async saveLab(lab: string, body: SaveLab): Promise<Experiment> {
    const experiment = await api.experiments.saveLab(lab, body);
    await this.load();
    await this.select(experiment.id);
    return experiment;
  }

  async import(file: ExperimentFile): Promise<Experiment> {
    const experiment = await api.experiments.import(file);
    await this.load();
    await this.select(experiment.id);
    return experiment;
  }

  /** Deletes an experiment; `cascade` (asked of the person first) deletes its runs with it. */
  async remove(id: string, cascade: boolean): Promise<void> {
    await api.experiments.delete(id, { cascade });
    if (this.selectedId === id) this.selectedId = null;
    this.runs = [];
    await this.load();
  }

  async startRun(seed: number | null, label: string): Promise<RunView | null> {
    const id = this.selectedId;
    if (!id) return null;
    const run = await api.runs.start(id, { ...(seed !== null ? { seed } : {}), ...(label ? { label } : {}) });
    this.runs = [run, ...this.runs];
    this.follow(run.id);
    void this.refreshExperiment(id);
    return run;
  }

  private async refreshExperiment(id: string): Promise<void> {
    const experiment = await api.experiments.get(id);
    this.list = this.list.map((e) => (e.id === id ? experiment : e));
  }

  /** Follows a run's progress over its websocket until it ends, then fetches its results. */
  private follow(runId: string): void {
    if (this.sockets.has(runId)) return;
    const socket = api.runProgress(runId);
    this.sockets.set(runId, socket);
    void (async () => {
      try {
        for await (const update of socket) {
          if (update.type === 'run') this.replace(update.run);
          else this.patch(runId, update);
        }
      } catch {
        // A socket that fails ends the same way as one that closes: the run is fetched as it is.
      } finally {
        this.sockets.delete(runId);
        void api.runs.get(runId).then((run) => this.replace(run));
      }
    })();
  }

  private replace(run: RunView): void {
    this.runs = this.runs.some((r) => r.id === run.id)
      ? this.runs.map((r) => (r.id === run.id ? run : r))
      : this.runs;
  }

  private patch(runId: string, update: Extract<RunMessage, { type: 'progress' }>): void {
    // Progress messages do not say which worker took the run (or took it again): read that when its status
    // changes, and take only that, so that an answer overtaken by later progress does not set it back.
    const before = this.runs.find((r) => r.id === runId);
    if (before && before.status !== update.status) void this.readWorker(runId);
    this.runs = this.runs.map((r) =>
      r.id === runId
        ? {
            ...r,
            status: update.status,
            progress: update.progress,
            transactions: update.transactions,
            totalTransactions: update.totalTransactions,
            faultRecords: update.faultRecords,
            error: update.error ?? r.error,
          }
        : r,
    );
  }

  private async readWorker(runId: string): Promise<void> {
    try {
      const { worker, attempts } = await api.runs.get(runId);
      this.runs = this.runs.map((r) => (r.id === runId ? { ...r, worker, attempts } : r));
    } catch {
      // The row keeps the worker it showed; the run is read whole again when it ends.
    }
  }

  togglePick(run: RunView): void {
    this.picked = this.picked.some((p) => p.id === run.id)
      ? this.picked.filter((p) => p.id !== run.id)
      : [...this.picked, { id: run.id, label: run.label || `seed ${run.seed}` }];
  }

  async compare(): Promise<void> {
    this.compareError = null;
    try {
      this.comparison = await api.compare(this.picked.map((p) => p.id));
    } catch (error) {
      this.comparison = null;
      this.compareError = describeError(error);
    }
  }

  close(): void {
    for (const socket of this.sockets.values()) socket.close();
    this.sockets.clear();
  }
}

export const experimentsStore = new ExperimentsStore();
