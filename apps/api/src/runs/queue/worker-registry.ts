/**
 * Which queue workers are there. Each worker registers its id in a set and writes a heartbeat key every
 * `intervalMs` that expires after BEATS_TO_LOSS intervals; the server's roster reads them at the same pace.
 * A registered worker whose heartbeat expired is lost (killed, its machine or network gone): the server
 * interrupts its runs at once, and BullMQ's stalled-job check hands their jobs to another worker, which
 * resumes them. A worker that stops politely says goodbye (and interrupts its own runs first).
 */
import type { Redis } from 'ioredis';
import { KEYS, type WorkerBeat } from './protocol';

/** Heartbeats missed before a worker is lost. */
export const BEATS_TO_LOSS = 5;
/** How long a lost worker stays listed (as lost) in GET /workers. */
const LOST_LISTED_MS = 10 * 60_000;

/** A worker's side: its heartbeat. */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly beat: () => WorkerBeat,
    private readonly intervalMs: number,
  ) {}

  async start(): Promise<void> {
    await this.send();
    this.timer = setInterval(() => void this.send().catch(() => {}), this.intervalMs);
  }

  /** A heartbeat now, out of turn: what the worker runs changed (GET /workers shows it at once). */
  beatNow(): void {
    void this.send().catch(() => {});
  }

  /** The heartbeat, and the registration again (a server that counted it lost meanwhile lists it again). */
  private send(): Promise<unknown> {
    const beat = this.beat();
    return this.redis
      .multi()
      .set(KEYS.beat(beat.id), JSON.stringify(beat), 'PX', this.intervalMs * BEATS_TO_LOSS)
      .sadd(KEYS.workers, beat.id)
      .exec();
  }

  /**
   * Goodbye: the worker is no longer listed (its runs were interrupted before). Without Redis there is
   * no one to tell: its heartbeat expires and the server counts it lost.
   */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (this.redis.status !== 'ready') return;
    const { id } = this.beat();
    await this.redis.multi().del(KEYS.beat(id)).srem(KEYS.workers, id).exec();
  }
}

/** The server's side: the workers as their heartbeats say, and the ones lost. */
export class WorkerRoster {
  private readonly seen = new Map<string, WorkerBeat>();
  private readonly lost = new Map<string, { beat: WorkerBeat; at: number }>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private lastRead = 0;
  private graceUntil = 0;

  constructor(
    private readonly redis: Redis,
    private readonly intervalMs: number,
    private readonly onLost: (beat: WorkerBeat) => Promise<void>,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Connected workers first (by start), then the recently lost. */
  list(): ListedWorker[] {
    const connected = [...this.seen.values()]
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt))
      .map((beat) => view(beat, 'connected'));
    const lost = [...this.lost.values()].map(({ beat }) => view(beat, 'lost'));
    return [...connected, ...lost];
  }

  /**
   * Reads the heartbeats; a registered worker without one is lost. Never rejects (Redis may be away).
   * After this server could not read Redis for a while, workers get BEATS_TO_LOSS beats of grace: their
   * heartbeats expired while Redis was away from them too, and they are not lost for that.
   */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const ids = await this.redis.smembers(KEYS.workers);
      const beats = ids.length > 0 ? await this.redis.mget(ids.map(KEYS.beat)) : [];
      // Read after a gap (Redis did not answer meanwhile, or this is the first read): grace.
      const at = Date.now();
      if (at - this.lastRead > 2 * this.intervalMs) this.graceUntil = at + this.intervalMs * BEATS_TO_LOSS;
      this.lastRead = at;
      const now = new Map<string, WorkerBeat>();
      for (const [i, id] of ids.entries()) {
        const text = beats[i];
        if (text) {
          now.set(id, JSON.parse(text) as WorkerBeat);
          continue;
        }
        if (at < this.graceUntil) continue;
        const beat = this.seen.get(id) ?? unknownBeat(id);
        this.seen.delete(id);
        this.lost.set(id, { beat, at });
        await this.onLost(beat);
        await this.redis.srem(KEYS.workers, id);
      }
      for (const id of this.seen.keys()) if (!ids.includes(id)) this.seen.delete(id);
      for (const [id, beat] of now) {
        this.seen.set(id, beat);
        this.lost.delete(id); // back (its network returned): connected again
      }
      for (const [id, lost] of this.lost) if (at - lost.at > LOST_LISTED_MS) this.lost.delete(id);
    } catch {
      // Redis away: the engine's health says so; the roster keeps what it saw.
    } finally {
      this.ticking = false;
    }
  }
}

/** A worker lost before this server ever saw its heartbeat (the server started after it died). */
function unknownBeat(id: string): WorkerBeat {
  const at = new Date(0).toISOString();
  return {
    id,
    host: id.split(':')[0] ?? '',
    pid: Number(id.split(':')[1] ?? 0),
    cores: 0,
    concurrency: 0,
    version: { protocol: 0, configVersion: 0, emulator: '' },
    startedAt: at,
    lastSeenAt: at,
    inServer: false,
    runs: [],
  };
}

export type ListedWorker = WorkerBeat & { state: 'connected' | 'lost' };

function view(beat: WorkerBeat, state: ListedWorker['state']): ListedWorker {
  return { ...beat, state };
}
