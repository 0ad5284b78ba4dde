/**
 * The answers every route can give that no route declares itself, added to each route's schema as it is
 * registered, so the OpenAPI document lists what a route really answers: 401 everywhere when a token is
 * configured (auth.ts), 413 and 415 wherever a body is parsed (json-body.ts, errors.ts), 503 where a route
 * declares that it needs the job queue or writes the database (`config.needs`, errors.ts). Registered before the routes (an onRoute hook
 * sees only routes added after it).
 */
import { ErrorSchema } from '@iommu-lab/wire';
import type { FastifyInstance, RouteOptions } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * What a route depends on beyond the request, declared on the route itself: `queue`, the job engine (503
     * EQUEUE while Redis is away); `database`, a write to the database (503 when it cannot be written).
     */
    needs?: readonly ('queue' | 'database')[];
  }
}

/** Methods whose bodies Fastify parses (and so can refuse as too large or not JSON). */
const WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

const error = (description: string) => ({ ...ErrorSchema, description });

export function registerOpenApiResponses(app: FastifyInstance, options: { token: boolean }): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    if (route.schema?.hide) return;
    const methods = [route.method].flat();
    const added: Record<number, object> = {};
    if (options.token) added[401] = error('EAUTH: the access token is missing or wrong.');
    if (methods.some((method) => WITH_BODY.has(method))) {
      added[413] = error('ETOOLARGE: the body is larger than this server accepts.');
      added[415] = error('EMEDIATYPE: the body is not JSON.');
    }
    const needs = route.config?.needs ?? [];
    const queue = needs.includes('queue');
    const database = needs.includes('database');
    if (queue || database)
      added[503] = error(
        [
          ...(queue ? ['EQUEUE: the job queue cannot be reached now'] : []),
          ...(database ? ['ENOSPC, EROFS, EIO…: the database cannot be written now'] : []),
        ].join('; or ') + '.',
      );
    if (Object.keys(added).length === 0) return;
    const schema = (route.schema ??= {});
    schema.response = { ...added, ...(schema.response as object | undefined) };
    if (options.token) (schema as { security?: unknown }).security ??= [{ token: [] }];
  });
}
