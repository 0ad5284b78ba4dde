/**
 * The server: Fastify with TypeBox validation, one error handler, the access token, OpenAPI and its
 * interactive docs, websockets, and the route plugins, each a concept of the domain.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import { API_PREFIX } from '@iommu-lab/wire';
import { DEFAULT_LAB_LIMITS, LabRegistry } from './labs/lab-registry';
import type { LabLimits } from './labs/lab';
import { registerAuth } from './plugins/auth';
import { registerErrorHandling } from './plugins/errors';
import { activityRoutes } from './routes/activity';
import { labRoutes } from './routes/labs';
import { streamRoutes } from './routes/stream';
import { topologyRoutes } from './routes/topology';

declare module 'fastify' {
  interface FastifyInstance {
    labs: LabRegistry;
  }
}

export interface ServerOptions {
  /** Access token every route and the websocket check; required when not on loopback (see main.ts). */
  token?: string;
  /** Largest request body, bytes. */
  bodyLimit?: number;
  logger?: FastifyServerOptions['logger'];
  maxLabs?: number;
  labLimits?: LabLimits;
}

export const DEFAULT_BODY_LIMIT = 2 * 1024 * 1024;

export async function buildServer(options: ServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  // An empty JSON body is no body (curl -H 'content-type: application/json' -X PUT …); the rest as usual,
  // with prototype-poisoning keys refused.
  const json = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
    body === '' ? done(null, undefined) : json(request, body as string, done),
  );
  // Bodies are JSON only: a text/plain body would reach validation as a string ("body must be object").
  app.removeContentTypeParser('text/plain');
  app.decorate('labs', new LabRegistry(options.maxLabs, options.labLimits ?? DEFAULT_LAB_LIMITS));
  // Before the token check: the websocket plugin marks upgrade requests, so a refused one has its socket closed.
  await app.register(websocket, { options: { maxPayload: 1 << 20 } });
  registerErrorHandling(app);
  registerAuth(app, options.token);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'iommu-lab API',
        version: '1',
        description:
          'Live labs of emulated IOMMUs (Intel VT-d, Arm SMMUv3), devices and their I/O page faults. Addresses are hex strings. Every refusal is a 4xx with a stable code (the kernel errno name where the emulator refused) and a sentence, and changes nothing.',
      },
      components: { securitySchemes: { token: { type: 'http', scheme: 'bearer' } } },
      tags: [
        'labs',
        'clock',
        'iommus',
        'devices',
        'sva',
        'processes',
        'domains',
        'faults',
        'dma',
        'history',
        'stream',
      ].map((name) => ({ name })),
    },
  });
  await app.register(swaggerUi, { routePrefix: `${API_PREFIX}/docs` });

  app.get('/healthz', { schema: { hide: true } }, async () => ({
    status: 'ok',
    labs: app.labs.list().length,
  }));
  app.get(`${API_PREFIX}/openapi.json`, { schema: { hide: true } }, async () => app.swagger());
  await app.register(
    async (api) => {
      await api.register(labRoutes);
      await api.register(topologyRoutes);
      await api.register(activityRoutes);
      await api.register(streamRoutes);
    },
    { prefix: API_PREFIX },
  );
  app.addHook('onClose', async () => app.labs.closeAll());
  return app;
}
