/**
 * The binary channel of an iommufd fault object or vEVENTQ as a file descriptor: `read(count)` resolves with
 * the bytes the server's read() returned (whole records, maybe none), `write(bytes)` with the bytes its
 * write() took, and a refusal rejects with an ApiError carrying the errno (ESPIPE, EINVAL, …). The server
 * answers in the order it was asked, so each answer settles the oldest call waiting.
 * `readable()` resolves when there may be something to read (poll()): from the hello or a `readable` until a
 * read comes back empty, since the server says `readable` only when its queue stops being empty.
 */
import type { ChannelServerMessage } from '@iommu-lab/wire';
import { ApiError } from './errors';
import { JsonSocket, type SocketTarget } from './socket';

type Hello = Extract<ChannelServerMessage, { type: 'hello' }>;

interface Waiting {
  kind: 'read' | 'write';
  resolve(value: Uint8Array | number): void;
  reject(error: Error): void;
}

export class IommufdChannel extends JsonSocket<ChannelServerMessage> {
  private readonly waiting: Waiting[] = [];
  private readonly readableWaiters: (() => void)[] = [];
  private maybeReadable = false;
  private greet!: (hello: Hello) => void;
  /** The server's hello: the object, its kind, the size of one record, and what was readable at open. */
  readonly hello: Promise<Hello> = new Promise((resolve) => (this.greet = resolve));

  constructor(
    target: SocketTarget,
    private readonly name: string,
  ) {
    super(target);
    void this.closed.then(() => {
      for (const call of this.waiting.splice(0)) call.reject(new Error(`${this.name} closed`));
    });
  }

  read(count: number): Promise<Uint8Array> {
    return this.call('read', () => this.send({ op: 'read', count })) as Promise<Uint8Array>;
  }

  write(bytes: Uint8Array): Promise<number> {
    return this.call('write', () => this.sendFrame(bytes)) as Promise<number>;
  }

  /** Resolves once the queue has something to read. */
  async readable(): Promise<void> {
    await this.hello;
    if (!this.maybeReadable) await new Promise<void>((resolve) => this.readableWaiters.push(resolve));
  }

  protected override binary(bytes: Uint8Array): void {
    const call = this.waiting.shift();
    if (call?.kind === 'read') {
      if (bytes.length === 0) this.maybeReadable = false;
      call.resolve(bytes);
    } else call?.reject(new Error(`${this.name}: a frame of ${bytes.length} bytes answered a write`));
  }

  protected override intercept(message: ChannelServerMessage): boolean {
    switch (message.type) {
      case 'hello':
        this.maybeReadable = message.readable > 0;
        this.greet(message);
        return true;
      case 'readable':
        this.maybeReadable = true;
        for (const resolve of this.readableWaiters.splice(0)) resolve();
        return true;
      case 'written':
        this.waiting.shift()?.resolve(message.bytes);
        return true;
      case 'error':
        this.waiting.shift()?.reject(new ApiError(422, message, this.name));
        return true;
    }
  }

  private call(kind: Waiting['kind'], send: () => void): Promise<Uint8Array | number> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ kind, resolve, reject });
      send();
    });
  }
}
