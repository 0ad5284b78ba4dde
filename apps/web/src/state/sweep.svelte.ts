/**
 * One sweep as its block shows it (GET /sweeps/:id): read once, then about once a second while it is
 * running and shown; reading stops when it is done or failed, or when `show()`'s stop is called.
 */
import type { SweepView } from '@iommu-lab/client';
import { api, describeError } from '../lib/client';
import { Poller, everySecond } from '../lib/poll/poller';
import type { Failure } from './action.svelte';

export interface SweepClient {
  sweep: (id: string) => Promise<SweepView>;
  pause: () => Promise<void>;
}

export class SweepFollower {
  sweep = $state.raw<SweepView | null>(null);
  error = $state<Failure | null>(null);
  private readonly poller: Poller;

  constructor(
    readonly id: string,
    private readonly client: SweepClient = { sweep: (sweep) => api.sweeps.get(sweep), pause: everySecond },
  ) {
    this.poller = new Poller(() => this.read(), client.pause);
  }

  show(): () => void {
    this.poller.start();
    return () => this.poller.stop();
  }

  private async read(): Promise<boolean> {
    try {
      this.sweep = await this.client.sweep(this.id);
      this.error = null;
      return this.sweep.status === 'running';
    } catch (error) {
      // A failed read (the server restarting) is not the sweep's end: read again.
      this.error = describeError(error);
      return true;
    }
  }
}
