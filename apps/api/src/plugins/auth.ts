/**
 * The access token. On loopback no token is needed; listening anywhere else requires one, which every
 * route and the websocket check: `Authorization: Bearer <token>`, or `?token=` on a websocket upgrade only
 * (a browser's websocket cannot set headers; anywhere else a token in the URL ends up in logs and history).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors';

type Lookup = (host: string) => Promise<{ address: string }[]>;
const lookupAll: Lookup = (host) => lookup(host, { all: true });

/**
 * Whether listening on `host` stays on this machine: every address the name resolves to is loopback
 * (127.0.0.0/8 or ::1). A name that does not resolve is not loopback.
 */
export async function isLoopback(host: string, resolve: Lookup = lookupAll): Promise<boolean> {
  let addresses: { address: string }[];
  try {
    addresses = await resolve(host);
  } catch {
    return false;
  }
  return addresses.length > 0 && addresses.every(({ address }) => isLoopbackAddress(address));
}

function isLoopbackAddress(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIPv4(v4)) return v4.split('.')[0] === '127';
  return address === '::1';
}

/** Equal in time that depends on neither the tokens' contents nor their lengths (digests are 32 bytes). */
function same(a: string, b: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(a), digest(b));
}

export function registerAuth(app: FastifyInstance, token: string | undefined): void {
  if (token === undefined) return;
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    // The scheme is case-insensitive (RFC 7235).
    const fromHeader = /^bearer /i.test(header ?? '') ? header!.slice(7) : undefined;
    const query = request.query as Record<string, unknown> | undefined;
    const inQuery = query !== undefined && 'token' in query;
    if (inQuery && !request.ws)
      throw new HttpError(
        401,
        'EAUTH',
        'send the access token as Authorization: Bearer <token>; ?token= is accepted on websocket upgrades only.',
        'token-in-url',
      );
    const fromQuery = inQuery ? query.token : undefined;
    // Taken out of the query, so routes that refuse unknown query fields do not refuse the token.
    if (inQuery) delete query.token;
    const given = fromHeader ?? (typeof fromQuery === 'string' ? fromQuery : undefined);
    if (given === undefined || !same(given, token)) {
      throw new HttpError(
        401,
        'EAUTH',
        'this server needs its access token: Authorization: Bearer <token>.',
        'token',
      );
    }
  });
}
