/**
 * One websocket client's two directions, each bounded. Out: every byte the server queues for the client
 * (events, replies, notices) counts against one bound, `maxBufferedBytes`; a write that would pass it
 * closes the socket with code 4008 and a reason (the client is told, if it ever reads again) and drops
 * the connection soon after, so a client that sends but never reads cannot grow the server's memory.
 * In: messages are taken at most `messagesPerSecond` (a bucket of that many, refilled continuously);
 * past it the server stops reading the socket until the bucket refills, so a flood slows its sender down
 * (TCP backpressure) and nothing it sent is lost or refused.
 */
import type { RawData, WebSocket } from 'ws';

/** The close code for a client that let more than maxBufferedBytes pile up (4000-4999: the application's). */
export const CLOSE_BACKLOG = 4008;
/** How long a closed-for-backlog client has to read its close frame before the connection is dropped. */
const BACKLOG_GRACE_MS = 5000;

export interface SocketLimits {
  /** Bytes the server may hold for the client (its socket's bufferedAmount); past it the client is closed. */
  maxBufferedBytes: number;
  /** Messages from the client taken per second; past it the socket is read no further until there is room. */
  messagesPerSecond: number;
}

export class ClientSocket {
  private tokens: number;
  private refilledAt = performance.now();
  /** Messages read before the socket was paused, taken as the bucket refills. */
  private readonly backlog: RawData[] = [];
  private drainTimer: ReturnType<typeof setTimeout> | null = null;
  /** Times the socket was paused for sending too fast. */
  throttled = 0;
  /** Set once the client was closed for letting more than maxBufferedBytes pile up. */
  overflowed = false;

  constructor(
    readonly socket: WebSocket,
    private readonly limits: SocketLimits,
  ) {
    this.tokens = limits.messagesPerSecond;
    socket.on('close', () => {
      if (this.drainTimer) clearTimeout(this.drainTimer);
      this.backlog.length = 0;
    });
  }

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  /** Sends a text message; false when the socket is closed or the message would pass the bound. */
  write(data: string | Buffer): boolean {
    if (!this.open) return false;
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (this.socket.bufferedAmount + bytes > this.limits.maxBufferedBytes) {
      this.overflow();
      return false;
    }
    this.socket.send(data, { binary: false });
    return true;
  }

  /** Calls `handle` for each message, at most messagesPerSecond. */
  onMessage(handle: (raw: RawData) => void): void {
    this.socket.on('message', (raw) => {
      if (this.backlog.length === 0 && this.take()) return handle(raw);
      this.backlog.push(raw);
      if (this.drainTimer) return;
      this.throttled++;
      this.socket.pause();
      this.scheduleDrain(handle);
    });
  }

  private take(): boolean {
    const now = performance.now();
    const { messagesPerSecond } = this.limits;
    this.tokens = Math.min(
      messagesPerSecond,
      this.tokens + ((now - this.refilledAt) * messagesPerSecond) / 1000,
    );
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  private scheduleDrain(handle: (raw: RawData) => void): void {
    const waitMs = Math.max(1, ((1 - this.tokens) * 1000) / this.limits.messagesPerSecond);
    this.drainTimer = setTimeout(() => {
      this.drainTimer = null;
      while (this.backlog.length > 0 && this.open && this.take()) handle(this.backlog.shift()!);
      if (this.backlog.length > 0 && this.open) this.scheduleDrain(handle);
      else this.socket.resume();
    }, waitMs);
  }

  private overflow(): void {
    this.overflowed = true;
    this.socket.close(
      CLOSE_BACKLOG,
      `EBACKLOG: more than ${this.limits.maxBufferedBytes} bytes waiting for this client to read`,
    );
    // The close frame waits behind everything buffered; a client that still does not read is dropped.
    setTimeout(() => this.socket.terminate(), BACKLOG_GRACE_MS).unref();
  }
}
