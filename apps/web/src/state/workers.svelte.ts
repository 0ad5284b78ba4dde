/**
 * The queue workers the server knows (GET /workers), read about once a second while a view shows them:
 * `show()` starts reading and answers the function that stops it. A failed read is shown and reading goes
 * on (the server may come back); the workers last read stay on screen meanwhile.
 */
import type { WorkersView } from '@iommu-lab/client';
import { api, describeError } from '../lib/client';
import { Poller, everySecond } from '../lib/poll/poller';
import type { Failure } from './action.svelte';

/** What the store needs of the API and of the page's clock (the real ones, or a test's). */
export interface WorkersClient {
  workers: () => Promise<WorkersView>;
  pause: () => Promise<void>;
  /** This page's clock, ms since the epoch. */
  now: () => number;
}

export class WorkersStore {
  view = $state.raw<WorkersView | null>(null);
  error = $state<Failure | null>(null);
  /** When the last answer (or failure) came, by this page's clock: "last seen … ago" counts from it. */
  readAtMs = $state(0);
  private readonly poller: Poller;

  constructor(private readonly client: WorkersClient) {
    this.poller = new Poller(() => this.read(), client.pause);
  }

  show(): () => void {
    this.poller.start();
    return () => this.poller.stop();
  }

  private async read(): Promise<boolean> {
    try {
      this.view = await this.client.workers();
      this.error = null;
    } catch (error) {
      this.error = describeError(error);
    }
    this.readAtMs = this.client.now();
    return true;
  }
}

export const workersStore = new WorkersStore({
  workers: () => api.workers(),
  pause: everySecond,
  now: () => Date.now(),
});
