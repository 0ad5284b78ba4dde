/**
 * The server: Fastify with TypeBox validation, one error handler, the access token, OpenAPI and its
 * interactive docs, websockets, and the route plugins, each a concept of the domain.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import { API_PREFIX } from '@iommu-lab/wire';
import { DEFAULT_LAB_LIMITS, LabRegistry } from './labs/lab-registry';
import type { LabLimits } from './labs/lab';
import { registerAuth } from './plugins/auth';
import { registerErrorHandling } from './plugins/errors';
import { registerJsonBody } from './plugins/json-body';
import { redactedLogger } from './plugins/log-redaction';
import { registerOpenApiResponses } from './plugins/openapi-responses';
import { originsFromEnv, registerOriginCheck } from './plugins/origin';
import { activityRoutes } from './routes/activity';
import { injectionRoutes } from './routes/injection';
import { flowRoutes } from './routes/flows';
import { labRoutes } from './routes/labs';
import { streamRoutes } from './routes/stream';
import { topologyRoutes } from './routes/topology';
import { experimentRoutes } from './routes/experiments';
import { runRoutes } from './routes/runs';
import { iommufdRoutes } from './routes/iommufd';
import { recordRoutes } from './routes/records';
import { seriesRoutes } from './routes/series';
import { DatabaseSink, RunManager } from './runs/run-manager';
import { BullmqEngine, type JobEngine, LocalEngine } from './runs/job-engine';
import { QueueWorker } from './runs/queue/queue-worker';
import { workerRoutes } from './routes/workers';
import { savedStudyRoutes } from './routes/saved-studies';
import { studyRoutes } from './routes/studies';
import { type QueueTiming, queueTiming } from './runs/queue/policy';
import { availableParallelism } from 'node:os';
import { type Database, openDatabase } from '@iommu-lab/db';

declare module 'fastify' {
  interface FastifyInstance {
    labs: LabRegistry;
    db: Database;
    runs: RunManager;
    engines: { local: JobEngine; bullmq?: BullmqEngine };
  }
}

export interface ServerOptions {
  /** Access token every route and the websocket check; required when not on loopback (see main.ts). */
  token?: string;
  /** Origins besides the server's own that may open websockets (default: IOMMU_LAB_ORIGINS; plugins/origin.ts). */
  allowedOrigins?: string[];
  /** Largest request body, bytes. */
  bodyLimit?: number;
  logger?: FastifyServerOptions['logger'];
  /** The SQLite file of experiments and runs; created and migrated if new. */
  databaseFile: string;
  /** A size limit for the database file (IOMMU_LAB_DB_MAX_MB); writes past it end their run as ENOSPC. */
  databaseMaxBytes?: number;
  /** Runs executed at once (default: cores - 1). */
  parallelRuns?: number;
  /** Redis for the BullMQ job engine (sweeps can then run on it); unset: the local worker pool only. */
  redisUrl?: string;
  /** Also take runs from the BullMQ queue in this process (default true when redisUrl is set). */
  queueWorker?: boolean;
  /** How fast the queue notices lost workers and a lost Redis (default: queueTiming(), from the environment). */
  queueTiming?: QueueTiming;
  /** The built dashboard, served at / (default: apps/web/dist, when it has been built). */
  webRoot?: string;
  maxLabs?: number;
  labLimits?: LabLimits;
}

export const DEFAULT_BODY_LIMIT = 2 * 1024 * 1024;

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: redactedLogger(options.logger ?? false),
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  registerJsonBody(app);
  app.decorate('labs', new LabRegistry(options.maxLabs, options.labLimits ?? DEFAULT_LAB_LIMITS));
  const db = await openDatabase(
    options.databaseFile,
    options.databaseMaxBytes === undefined ? {} : { maxBytes: options.databaseMaxBytes },
  );
  if (db.interrupted.length > 0) app.log.warn({ runs: db.interrupted }, 'runs interrupted by the last stop');
  // Runs queued on Redis before: without a queue, nothing will ever run them or hear from their workers.
  if (!options.redisUrl) {
    const orphans = await db.runs.interruptUnfinished(
      'the server started without REDIS_URL, so nothing follows its queue runs',
      'bullmq',
    );
    if (orphans.length > 0) app.log.warn({ runs: orphans }, 'queue runs interrupted: no REDIS_URL');
  }
  app.decorate('db', db);
  const runs = new RunManager(new DatabaseSink(db, app.log), options.parallelRuns);
  app.decorate('runs', runs);
  app.decorate('engines', {
    local: new LocalEngine(runs),
    ...(options.redisUrl
      ? { bullmq: new BullmqEngine(options.redisUrl, db, app.log, options.queueTiming ?? queueTiming()) }
      : {}),
  });
  const queueWorker =
    options.redisUrl && options.queueWorker !== false
      ? new QueueWorker({
          redisUrl: options.redisUrl,
          concurrency: options.parallelRuns ?? availableParallelism(),
          cores: availableParallelism(),
          log: app.log,
          timing: options.queueTiming ?? queueTiming(),
          inServer: true,
          sameRedis: app.engines.bullmq,
        })
      : undefined;
  // Registers once Redis is reached (the server does not wait: without Redis it runs degraded).
  void queueWorker
    ?.start()
    .catch((error: unknown) => app.log.warn({ err: error }, 'the queue worker did not start'));
  // Before the token check: the websocket plugin marks upgrade requests, so a refused one has its socket closed.
  await app.register(websocket, { options: { maxPayload: 1 << 20 } });
  const webRoot = options.webRoot ?? fileURLToPath(new URL('../../web/dist', import.meta.url));
  // The folder must exist at start (its files are then looked up at each request, so a rebuilt dashboard is
  // served as it is now).
  const hasWebRoot = existsSync(webRoot);
  const dashboard = () => hasWebRoot && existsSync(join(webRoot, 'index.html'));
  registerErrorHandling(app, { dashboard });
  registerOriginCheck(app, options.allowedOrigins ?? originsFromEnv(process.env.IOMMU_LAB_ORIGINS));
  registerAuth(app, options.token);
  registerOpenApiResponses(app, { token: options.token !== undefined });

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
        'flows',
        'history',
        'stream',
        'experiments',
        'runs',
        'records',
        'studies',
      ].map((name) => ({ name })),
    },
  });
  await app.register(swaggerUi, { routePrefix: `${API_PREFIX}/docs` });

  // Degraded, not down: live labs and local runs work without the queue.
  app.get('/healthz', { schema: { hide: true } }, async () => {
    const queue = app.engines.bullmq?.health();
    return {
      status: queue === undefined || queue.state === 'ready' ? 'ok' : 'degraded',
      labs: app.labs.list().length,
      ...(queue ? { queue } : {}),
    };
  });
  app.get(`${API_PREFIX}/openapi.json`, { schema: { hide: true } }, async () => app.swagger());
  await app.register(
    async (api) => {
      await api.register(labRoutes);
      await api.register(topologyRoutes);
      await api.register(activityRoutes);
      await api.register(injectionRoutes);
      await api.register(flowRoutes);
      await api.register(streamRoutes);
      await api.register(experimentRoutes);
      await api.register(runRoutes);
      await api.register(workerRoutes);
      await api.register(studyRoutes);
      await api.register(savedStudyRoutes);
      await api.register(seriesRoutes);
      await api.register(recordRoutes);
      await api.register(iommufdRoutes);
    },
    { prefix: API_PREFIX },
  );
  // The dashboard: its files at / as the folder holds them now (a rebuild renames its assets), and index.html
  // for any other GET outside the API (see errors.ts).
  if (hasWebRoot) await app.register(fastifyStatic, { root: webRoot, wildcard: true });

  app.addHook('onClose', async () => {
    app.labs.closeAll();
    // Unfinished runs stop and are marked interrupted; every batch they wrote is already on disk.
    await queueWorker?.close();
    await app.runs.close();
    await app.engines.bullmq?.close();
    await app.db.close();
  });
  return app;
}
