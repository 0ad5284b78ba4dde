/** Reaching Redis: options from its URL, its address for messages, and a connection's state told once per change. */
import { Redis } from 'ioredis';
import type { EngineLog, EngineState } from '../job-engine';

/**
 * A connection whose errors are not its own to report: the engine's (or worker's) main connection tells
 * Redis's state once per change (ConnectionState); ioredis would otherwise print every retry.
 */
export function quietRedis(redisUrl: string): Redis {
  const redis = new Redis(redisOptions(redisUrl));
  redis.on('error', () => {});
  return redis;
}

/** ioredis options for a Redis URL (redis://[:password@]host[:port][/db]). */
export function redisOptions(redisUrl: string) {
  const url = new URL(redisUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
    // Workers block on Redis and must wait for it (BullMQ requires null here).
    maxRetriesPerRequest: null,
  };
}

/** Redis's address without its password, for logs and answers. */
export const where = (redisUrl: string) => {
  const url = new URL(redisUrl);
  return `${url.hostname}:${url.port || 6379}`;
};

/**
 * A Redis connection's state, told once per change: the first failure at warn (not one line per retry),
 * the recovery at info.
 */
export class ConnectionState {
  state: EngineState = 'connecting';
  error?: string;
  failures = 0;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly what: string,
    private readonly address: string,
    private readonly log: EngineLog,
    /** What is refused meanwhile, for the warning. */
    private readonly meanwhile: string,
  ) {}

  failed(error: Error): void {
    this.error = error.message;
    this.failures++;
    if (this.state === 'unreachable') return;
    this.state = 'unreachable';
    this.log.warn(
      { redis: this.address, err: error.message },
      `${this.what}: Redis at ${this.address} is unreachable; ${this.meanwhile} until it is back`,
    );
  }

  ready(): void {
    if (this.state === 'unreachable')
      this.log.info({ redis: this.address }, `${this.what}: Redis at ${this.address} is reachable again`);
    this.state = 'ready';
    this.error = undefined;
    this.failures = 0;
    for (const wake of this.waiters) wake();
  }

  /** Resolves true when ready within `ms`. */
  until(ms: number): Promise<boolean> {
    if (this.state === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        resolve(false);
      }, ms);
      this.waiters.add(wake);
    });
  }
}
