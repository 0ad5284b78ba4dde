/**
 * What the log may not hold: the access token. A websocket upgrade may carry it as `?token=` (a browser
 * cannot set headers there), so every URL is logged with that parameter's value replaced, and the
 * Authorization header is censored wherever a line carries request headers.
 */
import type { FastifyServerOptions } from 'fastify';

const CENSORED = '[redacted]';

/** The URL with the value of every `token` query parameter replaced. */
export function redactUrl(url: string): string {
  const query = url.indexOf('?');
  if (query === -1) return url;
  return url.slice(0, query) + url.slice(query).replace(/([?&]token=)[^&#]*/gi, `$1${CENSORED}`);
}

interface RawRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  headers?: Record<string, unknown>;
  socket?: { remotePort?: number };
}

/** Fastify's logger options with the redaction added; `false` (no log) stays as it is. */
export function redactedLogger(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (!logger) return false;
  const base = logger === true ? {} : logger;
  return {
    ...base,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'request.headers.authorization'],
      censor: CENSORED,
    },
    serializers: {
      ...base.serializers,
      // Fastify's own request serializer, with the URL redacted.
      req: (request: RawRequest) => ({
        method: request.method,
        url: redactUrl(request.url ?? ''),
        host: request.host,
        remoteAddress: request.ip,
        remotePort: request.socket?.remotePort,
      }),
    },
  };
}
