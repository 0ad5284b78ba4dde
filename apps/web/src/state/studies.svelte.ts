/**
 * The studies the Studies view lists (the built-in ones, GET /studies, and the saved ones), the study runs
 * (the API's list, newest first, and those started from this page) and the one whose report is shown. A
 * study run that is running is read about once a second, one request at a time, until it is done or
 * failed, whichever view is on screen, so that coming back to the Studies view shows where it got to. A
 * failed read is shown and reading goes on.
 */
import type { SavedStudyView, StudyRunView, StudySpec } from '@iommu-lab/client';
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import { api, describeError } from '../lib/client';
import { Poller, everySecond } from '../lib/poll/poller';
import { type StudyRef, ranStudy, refKey } from '../lib/studies/study-summary';
import type { Failure } from './action.svelte';

/** What the store needs of the API and of the page's clock (the real ones, or a test's). */
export interface StudiesClient {
  list: () => Promise<StudySpec[]>;
  saved: () => Promise<SavedStudyView[]>;
  /** The study runs, newest first. */
  runs: () => Promise<StudyRunView[]>;
  /** Starts the study on the server's default engine. */
  run: (study: StudyRef) => Promise<StudyRunView>;
  get: (id: string) => Promise<StudyRunView>;
  save: (spec: StudySpec) => Promise<SavedStudyView>;
  import: (file: Record<string, unknown>) => Promise<SavedStudyView>;
  delete: (id: string) => Promise<void>;
  pause: () => Promise<void>;
}

export class StudiesStore {
  studies = $state.raw<StudySpec[]>([]);
  /** Saved studies, newest first. */
  saved = $state.raw<SavedStudyView[]>([]);
  loadError = $state<Failure | null>(null);
  /** Study runs, newest first. */
  runs = $state.raw<StudyRunView[]>([]);
  /** The study run whose progress and report the view shows. */
  shownId = $state<string | null>(null);
  /** The studies (by refKey) whose Run request is in flight. */
  readonly starting = new SvelteSet<string>();
  /** By refKey: why its last Run was refused. */
  readonly startErrors = new SvelteMap<string, Failure>();
  /** By study run id: why its last read failed (cleared by the next answer). */
  readonly readErrors = new SvelteMap<string, Failure>();
  /** Study runs being read until they end: a load while one is read does not read it twice. */
  private readonly following = new SvelteSet<string>();

  constructor(private readonly client: StudiesClient) {}

  get shown(): StudyRunView | null {
    return this.runs.find((run) => run.id === this.shownId) ?? null;
  }

  async load(): Promise<void> {
    try {
      const [studies, saved, runs] = await Promise.all([
        this.client.list(),
        this.client.saved(),
        this.client.runs(),
      ]);
      this.studies = studies;
      this.saved = saved;
      this.runs = runs;
      this.loadError = null;
      for (const run of runs) this.follow(run);
    } catch (error) {
      this.loadError = describeError(error);
    }
  }

  /** The runs of that study, newest first. */
  runsOf(study: StudyRef): StudyRunView[] {
    return this.runs.filter((run) => ranStudy(run, study));
  }

  async run(study: StudyRef): Promise<void> {
    const key = refKey(study);
    this.starting.add(key);
    this.startErrors.delete(key);
    try {
      const started = await this.client.run(study);
      this.runs = [started, ...this.runs];
      this.shownId = started.id;
      this.follow(started);
    } catch (error) {
      this.startErrors.set(key, describeError(error));
    } finally {
      this.starting.delete(key);
    }
  }

  /** Shows that study run's progress, or its report. */
  open(id: string): void {
    this.shownId = id;
  }

  /** Saves a study (a built-in's copy to edit, or an imported file) and lists it first. */
  async save(spec: StudySpec): Promise<SavedStudyView> {
    return this.listed(await this.client.save(spec));
  }

  async import(file: Record<string, unknown>): Promise<SavedStudyView> {
    return this.listed(await this.client.import(file));
  }

  /** Deletes a saved study; its runs stay (the API no longer names the study they ran). */
  async remove(id: string): Promise<void> {
    await this.client.delete(id);
    this.saved = this.saved.filter((study) => study.id !== id);
    this.runs = this.runs.map((run) =>
      run.study !== null && 'saved' in run.study && run.study.saved === id ? { ...run, study: null } : run,
    );
  }

  private listed(saved: SavedStudyView): SavedStudyView {
    this.saved = [saved, ...this.saved];
    return saved;
  }

  private follow(run: StudyRunView): void {
    if (run.status !== 'running' || this.following.has(run.id)) return;
    this.following.add(run.id);
    new Poller(() => this.read(run.id), this.client.pause).start();
  }

  /** One read of a study run: answers whether to read it again. */
  private async read(id: string): Promise<boolean> {
    try {
      const view = await this.client.get(id);
      this.runs = this.runs.map((run) => (run.id === id ? view : run));
      this.readErrors.delete(id);
      if (view.status !== 'running') this.following.delete(id);
      return view.status === 'running';
    } catch (error) {
      this.readErrors.set(id, describeError(error));
      return true;
    }
  }
}

export const studiesStore = new StudiesStore({
  list: () => api.studies.list(),
  saved: () => api.studies.saved.list(),
  runs: () => api.studies.runs(),
  run: (study) => api.studies.run({ study: 'builtin' in study ? study.builtin : study }),
  get: (id) => api.studies.get(id),
  save: (spec) => api.studies.saved.save(spec),
  import: (file) => api.studies.saved.import(file),
  delete: (id) => api.studies.saved.delete(id),
  pause: everySecond,
});
