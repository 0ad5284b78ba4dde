/** One control's request: whether it is in flight, what it returned, and the API's refusal if any. */
import { describeError } from '../lib/client';

export type Failure = ReturnType<typeof describeError>;

export class Action<T = unknown> {
  busy = $state(false);
  error = $state<Failure | null>(null);
  result = $state<T | null>(null);

  /** Forgets the last outcome (its subject changed). */
  reset(): void {
    this.error = null;
    this.result = null;
  }

  async run(task: () => Promise<T>): Promise<T | null> {
    this.busy = true;
    this.error = null;
    try {
      const result = await task();
      this.result = result;
      return result;
    } catch (caught) {
      this.error = describeError(caught);
      this.result = null;
      return null;
    } finally {
      this.busy = false;
    }
  }
}
