/**
 * The answers every route can give that no route declares itself, added to each route's schema as it is
 * registered, so the OpenAPI document lists what a route really answers: 401 everywhere when a token is
 * configured (auth.ts), 413 and 415 wherever a body is parsed (json-body.ts, errors.ts), 503 where the job
 * queue is needed or the database is written (errors.ts). Registered before the routes (an onRoute hook
 * sees only routes added after it).
 */
import { ErrorSchema } from '@iommu-lab/wire';
import type { FastifyInstance, RouteOptions } from 'fastify';

/** Methods whose bodies Fastify parses (and so can refuse as too large or not JSON). */
const WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Routes that hand work to the job engine: they answer 503 while its queue is unreachable. */
const NEEDS_QUEUE = new Set(['POST /experiments/:experiment/sweeps', 'POST /experiments/:experiment/runs']);

/** Routes that write the database (experiments, their runs, a lab saved as one): 503 when it cannot be written. */
const writesDatabase = (method: string, url: string) =>
  method !== 'GET' &&
  method !== 'HEAD' &&
  (url.startsWith('/experiments') || url === '/labs/:lab/experiment');

const error = (description: string) => ({ ...ErrorSchema, description });

export function registerOpenApiResponses(
  app: FastifyInstance,
  options: { token: boolean; prefix: string },
): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    if (route.schema?.hide) return;
    const methods = [route.method].flat();
    const url = route.url.startsWith(options.prefix) ? route.url.slice(options.prefix.length) : route.url;
    const added: Record<number, object> = {};
    if (options.token) added[401] = error('EAUTH: the access token is missing or wrong.');
    if (methods.some((method) => WITH_BODY.has(method))) {
      added[413] = error('ETOOLARGE: the body is larger than this server accepts.');
      added[415] = error('EMEDIATYPE: the body is not JSON.');
    }
    const queue = methods.some((method) => NEEDS_QUEUE.has(`${method} ${url}`));
    const database = methods.some((method) => writesDatabase(method, url));
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
