/**
 * Reads something again and again while a view shows it, one request at a time: the next read starts only
 * after the last one has answered and a pause has passed, so a slow server is never asked twice at once.
 * Stopped, it reads no more; started again, it first waits for a read still in flight.
 */
export class Poller {
  /** Bumped by start and stop: a loop that sees another generation ends. */
  private generation = 0;
  private active = false;
  /** The last loop, until its read in flight has answered. */
  private loop: Promise<void> = Promise.resolve();

  /**
   * `read` answers whether to read again (false: what it reads has ended) and must not throw; `pause`
   * waits between reads.
   */
  constructor(
    private readonly read: () => Promise<boolean>,
    private readonly pause: () => Promise<void>,
  ) {}

  start(): void {
    if (this.active) return;
    this.active = true;
    const generation = ++this.generation;
    const previous = this.loop;
    this.loop = (async () => {
      await previous;
      while (generation === this.generation) {
        const again = await this.read();
        if (!again) {
          if (generation === this.generation) this.active = false;
          return;
        }
        await this.pause();
      }
    })();
  }

  stop(): void {
    this.generation++;
    this.active = false;
  }
}

/** The pause a poller waits between reads of what changes about once a second. */
export const everySecond = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1000));
