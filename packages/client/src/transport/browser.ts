/**
 * The websocket transport in a browser: the platform's WebSocket. It cannot send headers (a same-origin page
 * needs none) and reports a refused upgrade only as a close before open (1006), which JsonSocket turns into
 * "closed before it opened".
 */
import type { OpenSocket, SocketState } from './transport';

/** The part of the platform's WebSocket used here (this package compiles without the DOM library). */
interface PlatformSocket {
  readonly readyState: number;
  binaryType: string;
  send(data: string | Uint8Array): void;
  close(code?: number): void;
  addEventListener(type: 'open' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
}
const PlatformWebSocket = (globalThis as unknown as { WebSocket: new (url: string) => PlatformSocket })
  .WebSocket;

const STATES: readonly SocketState[] = ['connecting', 'open', 'closing', 'closed'];

export const openSocket: OpenSocket = (url, _headers, events) => {
  const socket = new PlatformWebSocket(url);
  socket.binaryType = 'arraybuffer';
  socket.addEventListener('open', () => events.open());
  socket.addEventListener('message', (event) =>
    event.data instanceof ArrayBuffer
      ? events.binary(new Uint8Array(event.data))
      : events.message(String(event.data)),
  );
  socket.addEventListener('error', () => events.error(new Error(`the websocket to ${url} failed`)));
  socket.addEventListener('close', (event) => events.close(event.code, event.reason));
  return {
    get state() {
      return STATES[socket.readyState] ?? 'closed';
    },
    send: (data) => socket.send(data),
    close: (code) => socket.close(code),
    terminate: () => socket.close(),
  };
};
