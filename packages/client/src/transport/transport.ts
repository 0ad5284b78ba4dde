/**
 * What JsonSocket needs of a websocket, on Node (the `ws` package, which can send headers and read a refused
 * upgrade's body) and in a browser (the platform's WebSocket, which can do neither). package.json's `imports`
 * maps `#websocket` to the right one by the `browser` condition, so bundlers (Vite) take the browser one and
 * Node never loads it.
 */
export interface SocketEvents {
  open(): void;
  message(text: string): void;
  /** A binary frame (the iommufd channels' records). */
  binary(bytes: Uint8Array): void;
  /** The upgrade was answered with an HTTP status instead (only Node can tell; a browser reports a close). */
  refused(status: number, body: string): void;
  error(error: Error): void;
  close(code: number, reason: string): void;
}

export type SocketState = 'connecting' | 'open' | 'closing' | 'closed';

export interface Transport {
  readonly state: SocketState;
  send(data: string | Uint8Array): void;
  /** A clean close (1000) once open. */
  close(code: number): void;
  /** Drops the connection at once (also while connecting). */
  terminate(): void;
}

export type OpenSocket = (url: string, headers: Record<string, string>, events: SocketEvents) => Transport;
