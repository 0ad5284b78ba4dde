/**
 * Who may open a websocket. A browser lets any page open a websocket to any address and sends the page's
 * origin with the upgrade, so without this check any site a user visits could read a local lab's events
 * and answer its faults. Upgrades are accepted from the server's own origin (the scheme and Host the
 * request came with) and from origins listed in IOMMU_LAB_ORIGINS; clients that send no Origin (scripts,
 * the CLI) are not browsers and are accepted.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from './errors';

/** `http://host:port` as the URL standard writes it (lower case, default ports dropped); null if not one. */
function normalOrigin(text: string): string | null {
  try {
    const url = new URL(text);
    return url.origin === 'null' ? null : url.origin;
  } catch {
    return null;
  }
}

export const isOrigin = (text: string): boolean => normalOrigin(text) !== null;

/** IOMMU_LAB_ORIGINS: comma-separated origins, e.g. `http://127.0.0.1:5173,https://lab.example`. */
export function originsFromEnv(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
}

export function registerOriginCheck(app: FastifyInstance, allowed: readonly string[] = []): void {
  const listed = new Set<string>();
  for (const origin of allowed) {
    const normal = normalOrigin(origin);
    // A typo here would silently lock the dashboard out; better to fail at start.
    if (normal === null)
      throw new Error(`"${origin}" in the allowed origins is not an origin (scheme://host[:port]).`);
    listed.add(normal);
  }
  const own = (request: FastifyRequest) =>
    normalOrigin(`${request.protocol}://${request.headers.host ?? ''}`);

  app.addHook('onRequest', async (request) => {
    // `ws` is set by @fastify/websocket's own onRequest hook, registered before this one.
    if (!request.ws) return;
    const origin = request.headers.origin;
    if (origin === undefined) return;
    const normal = normalOrigin(origin);
    if (normal !== null && (normal === own(request) || listed.has(normal))) return;
    throw new HttpError(
      403,
      'EORIGIN',
      `websockets from ${JSON.stringify(origin)} are refused: only this server's own origin and those in IOMMU_LAB_ORIGINS may connect.`,
      'origin',
    );
  });
}
