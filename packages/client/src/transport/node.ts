/** The websocket transport on Node: the `ws` package (headers, and a refused upgrade's status and body). */
import { WebSocket } from 'ws';
import type { OpenSocket, SocketState } from './transport';

const STATES: readonly SocketState[] = ['connecting', 'open', 'closing', 'closed'];

export const openSocket: OpenSocket = (url, headers, events) => {
  const socket = new WebSocket(url, { headers });
  socket.on('open', () => events.open());
  socket.on('message', (raw: Buffer, isBinary: boolean) =>
    isBinary
      ? events.binary(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength))
      : events.message(String(raw)),
  );
  socket.on('unexpected-response', (_request, response) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => {
      events.refused(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'));
      socket.terminate();
    });
  });
  socket.on('error', (error) => events.error(error));
  socket.on('close', (code, reason) => events.close(code, reason.toString('utf8')));
  return {
    get state() {
      return STATES[socket.readyState] ?? 'closed';
    },
    send: (data) => socket.send(data),
    close: (code) => socket.close(code),
    terminate: () => socket.terminate(),
  };
};
