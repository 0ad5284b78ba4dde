/**
 * The access token. On loopback no token is needed; listening anywhere else requires one, which every
 * route and the websocket check (Authorization: Bearer <token>, or ?token= where a browser's websocket
 * cannot set headers).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors';

export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost';
}

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function registerAuth(app: FastifyInstance, token: string | undefined): void {
  if (token === undefined) return;
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    // The scheme is case-insensitive (RFC 7235).
    const fromHeader = /^bearer /i.test(header ?? '') ? header!.slice(7) : undefined;
    const query = request.query as Record<string, unknown> | undefined;
    const fromQuery = query?.token;
    // Taken out of the query, so routes that refuse unknown query fields do not refuse the token.
    if (query && 'token' in query) delete query.token;
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
