/**
 * A lab's websocket stream (protocol in apps/api/README.md): the raw server messages, the events alone,
 * and the outside fault handler that answers `fault.awaiting-client` groups with a policy. The stream asks
 * for the compact `tuples` encoding and yields its batches as `events` messages, the same as `json` ones.
 */
import { ApiError } from './errors';
import { EventTupleDecoder } from './event-tuples';
import { JsonSocket, type SocketTarget } from './socket';
import type {
  EventTuplesMessage,
  ResponseCode,
  ServerMessage,
  StreamEncoding,
  StreamFilter,
  WireEvent,
} from './types';

/** What a LabStream yields: the server's messages, compact batches already decoded into `events`. */
export type LabStreamMessage = Exclude<ServerMessage, EventTuplesMessage>;

/**
 * The server applies a subscription from the moment it receives it; events it queued for this client just
 * before are unfiltered, so the event iterators check the same filter again on their side (five set
 * lookups: nothing heavy). Same rules as the server: every given list must match.
 */
export function matchesFilter(event: WireEvent, filter: StreamFilter): boolean {
  const has = (list: readonly unknown[] | undefined, field: string) =>
    !list?.length || (field in event && list.includes(event[field]));
  return (
    (!filter.kinds?.length || filter.kinds.includes(event.kind)) &&
    has(filter.devices, 'device') &&
    has(filter.pasids, 'pasid') &&
    has(filter.categories, 'category') &&
    has(filter.stages, 'stage') &&
    (filter.flows === undefined || (event.kind === 'flow.ended') === filter.flows) &&
    (!filter.flowIds?.length || filter.flowIds.some((flow) => namesFlow(event, flow)))
  );
}

/** As the server reads it: the event's own flow, one of its `flows`, or the flow an eviction made room for (`by`). */
function namesFlow(event: WireEvent, flow: number): boolean {
  return (
    event.flow === flow || event.by === flow || (Array.isArray(event.flows) && event.flows.includes(flow))
  );
}

/** The server's `{type:'error'}` answer to a subscription, as the ApiError a REST refusal would be. */
export function subscriptionRefused(message: { code: string; message: string }): ApiError {
  return new ApiError(400, { code: message.code, message: message.message }, 'websocket subscribe');
}

/** `ws://…/api/v1/labs/:lab/stream`: yields every server message until the socket closes. */
export class LabStream extends JsonSocket<LabStreamMessage> {
  /** One entry per ping sent: a resolver for the client's own pings (whose pong is not yielded), else null. */
  private readonly pongs: ((() => void) | null)[] = [];
  private synced = false;
  private refusal: ApiError | null = null;
  /**
   * Resolves once the socket is open and the server has applied the initial filter (a ping sent after
   * the subscription came back): events from then on are the filter's. Rejects with an ApiError
   * (EVALIDATION) if the server refused the filter, with the ApiError of a refused upgrade, or with a
   * ConnectionError.
   */
  readonly ready: Promise<void>;
  private readonly decoder = new EventTupleDecoder();

  /** `encoding` is how the server is asked to write batches (they are yielded the same either way). */
  constructor(
    target: SocketTarget,
    filter: StreamFilter = {},
    private readonly encoding: StreamEncoding = 'tuples',
  ) {
    super(target);
    this.subscribe(filter);
    this.ready = this.opened
      .then(() => this.sync())
      .then(() => {
        this.synced = true;
        if (this.refusal) throw this.refusal;
      });
    this.ready.catch(() => {});
  }

  protected override decode(parsed: unknown): LabStreamMessage {
    const message = parsed as ServerMessage;
    if (message.type !== 'event-tuples') return message;
    return { type: 'events', events: this.decoder.decode(message), dropped: message.dropped };
  }

  protected override intercept(message: LabStreamMessage): boolean {
    if (message.type === 'error' && !this.synced) this.refusal ??= subscriptionRefused(message);
    if (message.type !== 'pong') return false;
    const own = this.pongs.shift();
    own?.();
    return Boolean(own);
  }

  /** Replaces the server-side filter (the encoding stays the stream's). */
  subscribe(filter: StreamFilter = {}): void {
    this.send({ type: 'subscribe', filter, encoding: this.encoding });
  }

  /** Answers a pending page-request group; the server says `responded`, or `error` (EINVAL) for a bad cookie. */
  respond(cookie: number, code: ResponseCode): void {
    this.send({ type: 'respond', cookie, code });
  }

  /** Sends a ping; its pong is yielded like any other message. */
  ping(): void {
    this.pongs.push(null);
    this.send({ type: 'ping' });
  }

  /** Resolves when the server has handled everything sent before (a ping whose pong is not yielded). */
  sync(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pongs.push(resolve);
      this.send({ type: 'ping' });
      void this.closed.then(() => reject(new Error('the stream closed before the server answered')));
    });
  }
}

export interface EventStreamOptions {
  /** Called when the server says it dropped events for this (slow) client. */
  onDropped?: (count: number) => void;
  /** Called on a `reset` of the lab (the stream goes on). */
  onReset?: () => void;
  /** Called with the reason when the server closes the stream (lab deleted, server stopping). */
  onClosing?: (reason: string) => void;
}

/** Yields a lab's events one by one (those matching the filter) until the stream closes. */
export class EventStream implements AsyncIterableIterator<WireEvent> {
  private readonly generator: AsyncGenerator<WireEvent, void, undefined>;

  constructor(
    readonly stream: LabStream,
    private readonly filter: StreamFilter = {},
    private readonly options: EventStreamOptions = {},
  ) {
    this.generator = this.generate();
  }

  /** See LabStream.ready. */
  get ready(): Promise<void> {
    return this.stream.ready;
  }

  private async *generate(): AsyncGenerator<WireEvent, void, undefined> {
    try {
      for await (const message of this.stream) {
        if (message.type === 'events') {
          if (message.dropped > 0) this.options.onDropped?.(message.dropped);
          for (const event of message.events) if (matchesFilter(event, this.filter)) yield event;
        } else if (message.type === 'dropped') this.options.onDropped?.(message.count);
        else if (message.type === 'reset') this.options.onReset?.();
        else if (message.type === 'closing') this.options.onClosing?.(message.reason);
        // This stream sends nothing but its subscription: an error is its refusal.
        else if (message.type === 'error') throw subscriptionRefused(message);
      }
    } finally {
      this.stream.close();
    }
  }

  close(): void {
    this.stream.close();
  }

  next(): Promise<IteratorResult<WireEvent>> {
    return this.generator.next();
  }

  async return(): Promise<IteratorResult<WireEvent>> {
    this.stream.close();
    await this.generator.return(undefined);
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** A `fault.awaiting-client` event: a page-request group an `external` handler left for the client. */
export type AwaitingFault = WireEvent & { cookie: number };

/** Decides the answer to a pending group. */
export type FaultPolicy = (event: AwaitingFault) => ResponseCode | Promise<ResponseCode>;

/** What became of one pending group. */
export type FaultAnswer =
  | { ok: true; cookie: number; code: ResponseCode; event: AwaitingFault }
  | { ok: false; cookie: number; code: ResponseCode | null; event: AwaitingFault; error: string };

/**
 * The outside fault handler: for each `fault.awaiting-client` event, calls the policy (concurrently, so
 * a slow policy does not hold the others) and sends its answer. Iterate it for the outcome of each answer
 * (`responded`, or the server's error); answers are kept until they are read. A policy that throws
 * answers nothing (the handler's timeout will); its error is in the FaultAnswer.
 */
export class FaultHandler implements AsyncIterable<FaultAnswer> {
  private readonly sent: { cookie: number; code: ResponseCode; event: AwaitingFault }[] = [];
  private readonly answers: FaultAnswer[] = [];
  private wake: (() => void) | null = null;
  private finished = false;
  private failure: unknown = null;
  private inFlight = 0;
  /** Resolves when the stream has ended (closed by `close()`, or by the server) and every answer is in. */
  readonly done: Promise<void>;

  constructor(
    readonly stream: LabStream,
    private readonly policy: FaultPolicy,
    private readonly filter: StreamFilter,
  ) {
    this.done = this.loop();
    this.done.catch(() => {});
  }

  /** See LabStream.ready. */
  get ready(): Promise<void> {
    return this.stream.ready;
  }

  private async loop(): Promise<void> {
    try {
      for await (const message of this.stream) {
        if (message.type === 'events') {
          for (const event of message.events)
            if (event.kind === 'fault.awaiting-client' && matchesFilter(event, this.filter))
              void this.answer(event as AwaitingFault);
        } else if (message.type === 'responded') {
          const index = this.sent.findIndex((entry) => entry.cookie === message.cookie);
          const [entry] = index < 0 ? [] : this.sent.splice(index, 1);
          if (entry) this.push({ ok: true, ...entry });
        } else if (message.type === 'error') {
          // The server answers each respond in order, and errors carry no cookie: the oldest is this one.
          // With none outstanding, it is the refusal of the subscription.
          const entry = this.sent.shift();
          if (!entry) throw subscriptionRefused(message);
          this.push({ ok: false, ...entry, error: `${message.code}: ${message.message}` });
        }
      }
    } catch (error) {
      this.failure = error;
      throw error;
    } finally {
      for (const entry of this.sent.splice(0))
        this.push({ ok: false, ...entry, error: 'the stream closed before the server confirmed the answer' });
      while (this.inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 5));
      this.finished = true;
      this.wake?.();
    }
  }

  private async answer(event: AwaitingFault): Promise<void> {
    this.inFlight++;
    try {
      let code: ResponseCode;
      try {
        code = await this.policy(event);
      } catch (error) {
        this.push({ ok: false, cookie: event.cookie, code: null, event, error: String(error) });
        return;
      }
      if (!this.stream.isOpen) {
        this.push({ ok: false, cookie: event.cookie, code, event, error: 'the stream is closed' });
        return;
      }
      this.sent.push({ cookie: event.cookie, code, event });
      this.stream.respond(event.cookie, code);
    } finally {
      this.inFlight--;
    }
  }

  private push(answer: FaultAnswer): void {
    this.answers.push(answer);
    this.wake?.();
  }

  /** Stops handling: closes the stream. */
  close(): void {
    this.stream.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<FaultAnswer> {
    while (true) {
      const answer = this.answers.shift();
      if (answer) {
        yield answer;
        continue;
      }
      if (this.finished) {
        if (this.failure) throw this.failure;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }
}
