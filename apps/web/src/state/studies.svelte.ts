/**
 * The built-in studies (GET /studies) and the study runs started from this page. The API does not list
 * study runs yet, so the runs this page session started are all it knows of: each is read about once a
 * second, one request at a time, until it is done or failed, whichever view is on screen, so that coming
 * back to the Studies view shows where it got to. A failed read is shown and reading goes on.
 */
import type { StudyRunView, StudySpec } from '@iommu-lab/client';
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import { api, describeError } from '../lib/client';
import { Poller, everySecond } from '../lib/poll/poller';
import type { Failure } from './action.svelte';

/** What the store needs of the API and of the page's clock (the real ones, or a test's). */
export interface StudiesClient {
  list: () => Promise<StudySpec[]>;
  /** Starts the built-in study of that name on the server's default engine. */
  run: (name: string) => Promise<StudyRunView>;
  get: (id: string) => Promise<StudyRunView>;
  pause: () => Promise<void>;
}

export class StudiesStore {
  studies = $state.raw<StudySpec[]>([]);
  loadError = $state<Failure | null>(null);
  /** The study runs started in this page session, newest first. */
  runs = $state.raw<StudyRunView[]>([]);
  /** The studies (by name) whose Run request is in flight. */
  readonly starting = new SvelteSet<string>();
  /** By study name: why its last Run was refused. */
  readonly startErrors = new SvelteMap<string, Failure>();
  /** By study run id: why its last read failed (cleared by the next answer). */
  readonly readErrors = new SvelteMap<string, Failure>();

  constructor(private readonly client: StudiesClient) {}

  async load(): Promise<void> {
    try {
      this.studies = await this.client.list();
      this.loadError = null;
    } catch (error) {
      this.loadError = describeError(error);
    }
  }

  /** The runs of that study started in this page session, newest first. */
  runsOf(name: string): StudyRunView[] {
    return this.runs.filter((run) => run.name === name);
  }

  async run(name: string): Promise<void> {
    this.starting.add(name);
    this.startErrors.delete(name);
    try {
      const started = await this.client.run(name);
      this.runs = [started, ...this.runs];
      if (started.status === 'running') new Poller(() => this.read(started.id), this.client.pause).start();
    } catch (error) {
      this.startErrors.set(name, describeError(error));
    } finally {
      this.starting.delete(name);
    }
  }

  /** One read of a study run: answers whether to read it again. */
  private async read(id: string): Promise<boolean> {
    try {
      const view = await this.client.get(id);
      this.runs = this.runs.map((run) => (run.id === id ? view : run));
      this.readErrors.delete(id);
      return view.status === 'running';
    } catch (error) {
      this.readErrors.set(id, describeError(error));
      return true;
    }
  }
}

export const studiesStore = new StudiesStore({
  list: () => api.studies.list(),
  run: (name) => api.studies.run({ study: name }),
  get: (id) => api.studies.get(id),
  pause: everySecond,
});
