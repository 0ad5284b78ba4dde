/**
 * A JSON websocket as an async iterator of its messages (on `ws` under Node, the platform's WebSocket in a
 * browser: see transport/): messages are buffered
 * from the moment the socket is created, so nothing the server says first (a hello) is missed; the
 * iteration ends when the socket closes; a refusal of the upgrade (e.g. a 404 for an unknown lab)
 * surfaces as an ApiError and an unreachable server as a ConnectionError.
 */
import { openSocket } from '#websocket';
import type { Transport } from './transport/transport';
import { ApiError, ConnectionError, systemCode } from './errors';

export interface SocketTarget {
  /** ws:// or wss:// URL. */
  url: string;
  headers: Record<string, string>;
  /** "GET /api/v1/…", for errors. */
  request: string;
  /** The server's base URL, for connection errors. */
  baseUrl: string;
}

export class JsonSocket<In> implements AsyncIterableIterator<In> {
  protected readonly socket: Transport;
  private readonly buffered: In[] = [];
  private readonly waiters: { resolve: (result: IteratorResult<In>) => void; reject: (e: Error) => void }[] =
    [];
  private readonly outbox: (string | Uint8Array)[] = [];
  private ended = false;
  private wasOpen = false;
  /** close() was called: what the socket reports from then on is no failure. */
  private closing = false;
  private failure: Error | null = null;
  /** Resolves once the upgrade succeeded; rejects with the ApiError or ConnectionError otherwise. */
  readonly opened: Promise<void>;
  /** Resolves with the close code and reason once the socket is closed (never rejects). */
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(target: SocketTarget) {
    let opened!: () => void;
    let refused!: (error: Error) => void;
    this.opened = new Promise<void>((resolve, reject) => {
      opened = resolve;
      refused = reject;
    });
    this.opened.catch(() => {});
    let closed!: (value: { code: number; reason: string }) => void;
    this.closed = new Promise((resolve) => (closed = resolve));

    this.socket = openSocket(target.url, target.headers, {
      open: () => {
        this.wasOpen = true;
        opened();
        for (const data of this.outbox.splice(0)) this.socket.send(data);
      },
      binary: (bytes) => this.binary(bytes),
      message: (raw) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw);
        } catch {
          return;
        }
        let message: In;
        try {
          message = this.decode(parsed);
        } catch (error) {
          // A message the protocol does not allow ends the iteration with that error.
          this.fail(error as Error);
          this.close();
          return;
        }
        if (this.intercept(message)) return;
        const waiter = this.waiters.shift();
        if (waiter) waiter.resolve({ value: message, done: false });
        else this.buffered.push(message);
      },
      refused: (status, text) => {
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = { message: `the websocket upgrade was refused with HTTP ${status}` };
        }
        const error = new ApiError(status, body, target.request);
        refused(error);
        this.fail(error);
      },
      error: (error) => {
        if (this.closing) return;
        const failure =
          !this.wasOpen && systemCode(error) ? new ConnectionError(target.baseUrl, error) : error;
        refused(failure);
        this.fail(failure);
      },
      close: (code, reason) => {
        refused(this.failure ?? new Error(`the websocket closed before it opened (${code})`));
        this.ended = true;
        closed({ code, reason });
        for (const waiter of this.waiters.splice(0))
          if (this.failure) waiter.reject(this.failure);
          else waiter.resolve({ value: undefined, done: true });
      },
    });
  }

  /** Subclasses may turn a parsed message into what they yield (a compact batch into events); may throw. */
  protected decode(parsed: unknown): In {
    return parsed as In;
  }

  /** Subclasses that speak binary frames take them here; a JSON protocol has none and drops them. */
  protected binary(_bytes: Uint8Array): void {}

  /** Subclasses may consume a message instead of yielding it (returns true). */
  protected intercept(_message: In): boolean {
    return false;
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  /** Sends a message (queued until the socket is open; dropped once it is closed). */
  send(message: unknown): void {
    this.sendFrame(JSON.stringify(message));
  }

  /** Sends a text or binary frame as it is (queued until the socket is open; dropped once it is closed). */
  protected sendFrame(data: string | Uint8Array): void {
    if (this.socket.state === 'connecting') this.outbox.push(data);
    else if (this.socket.state === 'open') this.socket.send(data);
  }

  get isOpen(): boolean {
    return this.socket.state === 'open';
  }

  /** Closes the socket; the iteration ends after the messages already received. */
  close(): void {
    this.closing = true;
    if (this.socket.state === 'connecting') this.socket.terminate();
    else if (this.socket.state === 'open') this.socket.close(1000);
  }

  next(): Promise<IteratorResult<In>> {
    const message = this.buffered.shift();
    if (message !== undefined) return Promise.resolve({ value: message, done: false });
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<In>> {
    this.close();
    this.buffered.length = 0;
    this.ended = true;
    for (const waiter of this.waiters.splice(0)) waiter.resolve({ value: undefined, done: true });
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
