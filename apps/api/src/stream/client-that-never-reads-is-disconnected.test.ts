import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, StreamClient, call, startStreamServer, wsUrl } from '../testing/harness';
import { CLOSE_BACKLOG } from './client-socket';

const maxBufferedBytes = 256 * 1024;

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('a client that sends but never reads is told and disconnected once its replies pass the byte bound', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startStreamServer({ maxBufferedBytes, messagesPerSecond: 1_000_000 }, 1000);
  });
  afterAll(() => server.close());

  it('replies count against maxBufferedBytes: past it the socket closes with 4008 EBACKLOG and is forgotten', async () => {
    const lab = (await call(server.url, 'POST', '/api/v1/labs', { preset: 'sva-pri-vtd' })).body.id as string;
    const hub = server.app.labs.get(lab).hub;
    const reader = await StreamClient.open(wsUrl(server.url, `/api/v1/labs/${lab}/stream`));
    const flooder = await StreamClient.open(wsUrl(server.url, `/api/v1/labs/${lab}/stream`));
    await flooder.until((messages) => messages.length > 0);
    // The hub keeps clients in the order they came.
    const flooderSide = [...hub.clients][1]!;
    const raw = (flooder.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    raw.pause();
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      flooder.socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );

    // Each answer (an error naming the unknown cookie) is larger than the question; the kernel's socket
    // buffers fill first, then the server's.
    let maxBuffered = 0;
    const deadline = Date.now() + 60_000;
    while (flooderSide.channel.open) {
      if (Date.now() > deadline) throw new Error('the server never closed the flooding client');
      for (let index = 0; index < 2000; index++)
        flooder.send({ type: 'respond', cookie: 999, code: 'SUCCESS' });
      maxBuffered = Math.max(maxBuffered, flooderSide.socket.bufferedAmount);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(flooderSide.channel.overflowed).toBe(true);
    expect(maxBuffered).toBeLessThanOrEqual(maxBufferedBytes);

    // Reading again, the client gets what was queued, then the close frame saying why.
    raw.resume();
    const { code, reason } = await closed;
    expect(code).toBe(CLOSE_BACKLOG);
    expect(reason).toMatch(/^EBACKLOG: more than 262144 bytes/);
    // Gone from the hub (nothing kept for it); the other client still works.
    await waitFor(() => !hub.clients.has(flooderSide));
    expect(hub.clients.size).toBe(1);
    reader.send({ type: 'ping' });
    await reader.until((messages) => messages.some((m) => m.type === 'pong'));
    reader.close();
  }, 90_000);
});
