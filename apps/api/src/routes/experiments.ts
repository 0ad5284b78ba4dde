/**
 * Experiments and their runs: CRUD, export and import as files, saving a live lab, starting runs (in the
 * background; progress on the run resource and its websocket), results with the fault log (paged,
 * filtered, or downloaded as CSV / JSONL), and comparing runs.
 */
import {
  CompareQuery,
  CompareResult,
  Document,
  EXPERIMENT_CONFIG_VERSION,
  EXPERIMENT_FILE_FORMAT,
  ErrorSchema,
  type ExperimentConfig,
  ExperimentBody,
  ExperimentConfigSchema,
  ExperimentFileSchema,
  ExperimentParams,
  ExperimentPatch,
  ExperimentView,
  FaultPage,
  FaultQuery,
  LabParams,
  RunParams,
  RunView,
  SaveLabBody,
  StartRunBody,
  SweepBody,
  SweepParams,
  SweepView,
} from '@iommu-lab/wire';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Experiment, FAULT_COLUMNS, type Run } from '@iommu-lab/db';
import { Readable } from 'node:stream';
import { explainSchemaErrors, type SchemaError } from '@iommu-lab/emulator';
import { Compile } from 'typebox/compile';
import Type from 'typebox';
import { HttpError } from '../plugins/errors';
import { compareRuns } from '../runs/compare';
import { expandSweep } from '../runs/sweep';

const errors = { 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema };
const checkFile = Compile(ExperimentFileSchema);
const checkConfig = Compile(ExperimentConfigSchema);

export function experimentView(experiment: Experiment & { _count?: { runs: number } }) {
  return {
    id: experiment.id,
    name: experiment.name,
    description: experiment.description,
    tags: experiment.tags as string[],
    config: experiment.config as Record<string, unknown>,
    createdAt: experiment.createdAt.toISOString(),
    updatedAt: experiment.updatedAt.toISOString(),
    runs: experiment._count?.runs ?? 0,
  };
}

export function runView(run: Run) {
  return {
    id: run.id,
    experimentId: run.experimentId,
    label: run.label,
    seed: run.seed,
    status: run.status as 'queued',
    progress: run.progress,
    transactions: run.transactions,
    totalTransactions: run.totalTransactions,
    faultRecords: run.faultRecords,
    simulatedNs: run.simulatedNs,
    error: run.error,
    metrics: run.metrics as Record<string, unknown> | null,
    histograms: run.histograms as Record<string, unknown> | null,
    config: run.config as Record<string, unknown>,
    createdAt: run.createdAt.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt?.toISOString() ?? null,
  };
}

export const experimentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { prisma } = app.db;
  const withCount = { _count: { select: { runs: true } } } as const;

  async function experimentOrThrow(id: string) {
    const experiment = await prisma.experiment.findUnique({ where: { id }, include: withCount });
    if (!experiment) throw new HttpError(404, 'ENOENT', `no experiment "${id}".`, 'no-such-experiment');
    return experiment;
  }
  async function runOrThrow(id: string) {
    const run = await prisma.run.findUnique({ where: { id } });
    if (!run) throw new HttpError(404, 'ENOENT', `no run "${id}".`, 'no-such-run');
    return run;
  }
  const create = async (input: { name: string; description?: string; tags?: string[]; config: object }) =>
    experimentView(
      await prisma.experiment.create({
        data: {
          name: input.name,
          description: input.description ?? '',
          tags: input.tags ?? [],
          configVersion: EXPERIMENT_CONFIG_VERSION,
          config: input.config,
        },
        include: withCount,
      }),
    );

  app.post(
    '/experiments',
    {
      schema: {
        tags: ['experiments'],
        summary: 'Save an experiment: system config + workload + handler policy + seed',
        body: ExperimentBody,
        response: { 201: ExperimentView, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await create(request.body)),
  );

  app.get(
    '/experiments',
    {
      schema: {
        tags: ['experiments'],
        summary: 'List experiments, newest first (optionally those with a tag)',
        querystring: Type.Object(
          { tag: Type.Optional(Type.String({ maxLength: 40 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(ExperimentView), ...errors },
      },
    },
    async (request) => {
      const all = await prisma.experiment.findMany({ orderBy: { createdAt: 'desc' }, include: withCount });
      const { tag } = request.query;
      return all.filter((e) => tag === undefined || (e.tags as string[]).includes(tag)).map(experimentView);
    },
  );

  app.get(
    '/experiments/:experiment',
    {
      schema: {
        tags: ['experiments'],
        summary: 'An experiment',
        params: ExperimentParams,
        response: { 200: ExperimentView, ...errors },
      },
    },
    async (request) => experimentView(await experimentOrThrow(request.params.experiment)),
  );

  app.patch(
    '/experiments/:experiment',
    {
      schema: {
        tags: ['experiments'],
        summary: 'Change an experiment (its runs keep the config they ran)',
        params: ExperimentParams,
        body: ExperimentPatch,
        response: { 200: ExperimentView, ...errors },
      },
    },
    async (request) => {
      await experimentOrThrow(request.params.experiment);
      const updated = await prisma.experiment.update({
        where: { id: request.params.experiment },
        data: request.body,
        include: withCount,
      });
      return experimentView(updated);
    },
  );

  app.delete(
    '/experiments/:experiment',
    {
      schema: {
        tags: ['experiments'],
        summary: 'Delete an experiment with its runs and fault logs',
        params: ExperimentParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await experimentOrThrow(request.params.experiment);
      const running = await prisma.run.count({
        where: { experimentId: request.params.experiment, status: { in: ['queued', 'running'] } },
      });
      if (running > 0)
        throw new HttpError(
          409,
          'EBUSY',
          'the experiment has runs in progress; wait for them to end.',
          'runs-in-progress',
        );
      await prisma.experiment.delete({ where: { id: request.params.experiment } });
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/experiments/:experiment/export',
    {
      schema: {
        tags: ['experiments'],
        summary: 'The experiment as a file to import elsewhere',
        params: ExperimentParams,
        response: { 200: ExperimentFileSchema, ...errors },
      },
    },
    async (request, reply) => {
      const experiment = await experimentOrThrow(request.params.experiment);
      const slug = experiment.name.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 60) || 'experiment';
      reply.header('content-disposition', `attachment; filename="${slug}.iommu-lab.json"`);
      return {
        format: EXPERIMENT_FILE_FORMAT,
        version: EXPERIMENT_CONFIG_VERSION,
        exportedAt: new Date().toISOString(),
        experiment: {
          name: experiment.name,
          description: experiment.description,
          tags: experiment.tags as string[],
          config: experiment.config as ExperimentConfig,
        },
      } as never;
    },
  );

  app.post(
    '/experiments/import',
    {
      schema: {
        tags: ['experiments'],
        summary: 'Import an exported experiment file (format and version checked first)',
        body: Document,
        response: { 201: ExperimentView, ...errors },
      },
    },
    async (request, reply) => {
      const file = request.body as Record<string, unknown>;
      if (file.format !== EXPERIMENT_FILE_FORMAT)
        throw new HttpError(
          422,
          'EFORMAT',
          `not an iommu-lab experiment file: "format" must be "${EXPERIMENT_FILE_FORMAT}".`,
          'not-an-experiment',
        );
      if (file.version !== EXPERIMENT_CONFIG_VERSION)
        throw new HttpError(
          422,
          'EVERSION',
          `experiment file version ${JSON.stringify(file.version)} is not supported; this server reads version ${EXPERIMENT_CONFIG_VERSION}.`,
          typeof file.version === 'number' && file.version < EXPERIMENT_CONFIG_VERSION
            ? 'too-old'
            : 'unknown-version',
        );
      if (!checkFile.Check(file)) {
        const { path, detail } = explainSchemaErrors(checkFile.Errors(file) as unknown as SchemaError[]);
        throw new HttpError(422, 'EFORMAT', `the experiment file's ${path} ${detail}.`, 'malformed', path);
      }
      return reply.status(201).send(await create(file.experiment));
    },
  );

  app.post(
    '/labs/:lab/experiment',
    {
      schema: {
        tags: ['experiments'],
        summary: "Save a live lab's current topology as an experiment (with a workload to run)",
        params: LabParams,
        body: SaveLabBody,
        response: {
          201: Type.Object({ ...ExperimentView.properties, omitted: Type.Array(Type.String()) }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const lab = app.labs.get(request.params.lab);
      const workload = request.body.workload ?? lab.presetWorkload();
      if (!workload)
        throw new HttpError(
          422,
          'EINVAL',
          'say which workload the experiment runs: this lab has no preset workload.',
          'no-workload',
        );
      const config = {
        version: EXPERIMENT_CONFIG_VERSION,
        system: lab.setup.config,
        workload,
        seed: request.body.seed ?? lab.system.describe().seed,
        ...(request.body.policy ? { policy: request.body.policy } : {}),
      };
      if (!checkConfig.Check(config)) {
        const { path, detail } = explainSchemaErrors(checkConfig.Errors(config) as unknown as SchemaError[]);
        throw new HttpError(
          422,
          'EINVAL',
          `the lab cannot be saved yet: config ${path} ${detail}.`,
          'incomplete-lab',
          path,
        );
      }
      const { name, description, tags } = request.body;
      const saved = await create({
        name,
        ...(description ? { description } : {}),
        ...(tags ? { tags } : {}),
        config,
      });
      return reply.status(201).send({ ...saved, omitted: [...lab.setup.omitted] });
    },
  );

  app.post(
    '/experiments/:experiment/runs',
    {
      schema: {
        tags: ['runs'],
        summary: 'Start a run (in the background): follow it on GET /runs/:run or its websocket',
        params: ExperimentParams,
        body: StartRunBody,
        response: { 202: RunView, ...errors },
      },
    },
    async (request, reply) => {
      const experiment = await experimentOrThrow(request.params.experiment);
      const config = experiment.config as ExperimentConfig;
      const seed = request.body.seed ?? config.seed;
      const run = await prisma.run.create({
        // The config it runs, with the run's seed: what a comparison diffs.
        data: {
          experimentId: experiment.id,
          seed,
          label: request.body.label ?? `seed ${seed}`,
          config: { ...config, seed },
        },
      });
      void app.runs.enqueue(run.id, { ...config, seed }, seed);
      return reply.status(202).send(runView(run));
    },
  );

  app.get(
    '/experiments/:experiment/runs',
    {
      schema: {
        tags: ['runs'],
        summary: "An experiment's runs, newest first",
        params: ExperimentParams,
        response: { 200: Type.Array(RunView), ...errors },
      },
    },
    async (request) => {
      await experimentOrThrow(request.params.experiment);
      const runs = await prisma.run.findMany({
        where: { experimentId: request.params.experiment },
        orderBy: { createdAt: 'desc' },
      });
      return runs.map(runView);
    },
  );

  app.get(
    '/runs/:run',
    {
      schema: {
        tags: ['runs'],
        summary: 'A run: status, progress, metrics and histograms',
        params: RunParams,
        response: { 200: RunView, ...errors },
      },
    },
    async (request) => runView(await runOrThrow(request.params.run)),
  );

  app.get(
    '/runs/:run/faults',
    {
      schema: {
        tags: ['runs'],
        summary: "A run's fault log: a page (json), or every matching record as CSV or JSONL",
        params: RunParams,
        querystring: FaultQuery,
        response: { 200: FaultPage, ...errors },
      },
    },
    async (request, reply) => {
      const run = await runOrThrow(request.params.run);
      const { after = -1, limit = 100, format = 'json', ...filter } = request.query;
      if (format === 'json') {
        const records = app.db.faults.page(run.id, after, limit, filter);
        return { records, next: records.at(-1)?.seq ?? -1, total: app.db.faults.count(run.id, filter) };
      }
      const rows = app.db.faults.iterate(run.id, filter);
      const lines = (function* () {
        if (format === 'csv') yield `${FAULT_COLUMNS.join(',')}\n`;
        for (const row of rows)
          yield format === 'csv'
            ? `${FAULT_COLUMNS.map((column) => csvField(row[column])).join(',')}\n`
            : `${JSON.stringify(row)}\n`;
      })();
      reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
        .header('content-disposition', `attachment; filename="run-${run.id}-faults.${format}"`);
      return reply.send(Readable.from(lines) as never);
    },
  );

  app.get(
    '/runs/:run/trace',
    {
      schema: {
        tags: ['runs'],
        summary:
          "A run's event trace as Chrome trace-event JSON (open it in Perfetto): devices and IOMMUs as tracks, faults as slices",
        params: RunParams,
        querystring: Type.Object(
          { maxEvents: Type.Optional(Type.Integer({ minimum: 100, maximum: 2_000_000 })) },
          { additionalProperties: false },
        ),
        response: { 200: Document, ...errors },
      },
    },
    async (request, reply) => {
      const run = await runOrThrow(request.params.run);
      const trace = await app.runs.trace(
        run.id,
        run.config as ExperimentConfig,
        run.seed,
        request.query.maxEvents,
      );
      reply.header('content-disposition', `attachment; filename="run-${run.id}.trace.json"`);
      return trace as never;
    },
  );

  app.get(
    '/runs/:run/stream',
    {
      websocket: true,
      schema: {
        tags: ['runs'],
        summary: "Websocket: a run's progress until it ends ({type:'run'} first, then {type:'progress'})",
        params: RunParams,
        response: { 404: ErrorSchema },
      },
      preValidation: async (request) => {
        await runOrThrow((request.params as { run: string }).run);
      },
    },
    async (socket, request) => {
      const id = (request.params as { run: string }).run;
      const send = (message: object) => socket.send(JSON.stringify(message));
      // The run first, then its progress: updates that arrive while it is read wait their turn.
      const early: object[] = [];
      let ready = false;
      const stop = app.runs.subscribe(id, (update) => {
        const message = { type: 'progress', ...update };
        if (!ready) return void early.push(message);
        send(message);
        if (update.status !== 'running' && update.status !== 'queued') socket.close(1000, update.status);
      });
      socket.on('close', stop);
      const run = await runOrThrow(id);
      send({ type: 'run', run: runView(run) });
      ready = true;
      for (const message of early) send(message);
      const ended = (status: string) => status !== 'queued' && status !== 'running';
      const last = early.at(-1) as { status?: string } | undefined;
      if (last?.status && ended(last.status)) return socket.close(1000, last.status);
      if (app.runs.isActive(id)) return;
      if (ended(run.status)) return socket.close(1000, run.status);
      // Queued on the job engine, executing in another process, or ended just now: follow the database.
      const poll = setInterval(async () => {
        const now = await prisma.run.findUnique({ where: { id } });
        if (app.runs.isActive(id) || !now) return;
        const { status, progress, transactions, totalTransactions, faultRecords } = now;
        send({ type: 'progress', run: id, status, progress, transactions, totalTransactions, faultRecords });
        if (ended(status)) {
          clearInterval(poll);
          socket.close(1000, status);
        }
      }, 300);
      socket.on('close', () => clearInterval(poll));
    },
  );

  const sweepView = async (id: string) => {
    const sweep = await prisma.sweep.findUnique({
      where: { id },
      include: { runs: { orderBy: { createdAt: 'asc' } } },
    });
    if (!sweep) throw new HttpError(404, 'ENOENT', `no sweep "${id}".`, 'no-such-sweep');
    const statuses = sweep.runs.map((run) => run.status);
    return {
      id: sweep.id,
      experimentId: sweep.experimentId,
      parameters: sweep.parameters as { path: string; values: unknown[] }[],
      engine: sweep.engine as 'local',
      status: statuses.every((status) => status === 'done')
        ? ('done' as const)
        : statuses.some((status) => status === 'failed' || status === 'interrupted')
          ? ('failed' as const)
          : ('running' as const),
      createdAt: sweep.createdAt.toISOString(),
      runs: sweep.runs.map(runView),
    };
  };

  app.post(
    '/experiments/:experiment/sweeps',
    {
      schema: {
        tags: ['runs'],
        summary:
          'Sweep parameters: one run per combination of values, on the worker pool or the BullMQ queue',
        params: ExperimentParams,
        body: SweepBody,
        response: { 202: SweepView, ...errors },
      },
    },
    async (request, reply) => {
      const experiment = await experimentOrThrow(request.params.experiment);
      const config = experiment.config as ExperimentConfig;
      const engine = app.engines[request.body.engine ?? (app.engines.bullmq ? 'bullmq' : 'local')];
      if (!engine)
        throw new HttpError(
          422,
          'ENOENGINE',
          'no BullMQ job engine is configured: start the server with REDIS_URL.',
          'no-engine',
        );
      const seed = request.body.seed ?? config.seed;
      const points = expandSweep(config, request.body.parameters);
      const sweep = await prisma.sweep.create({
        data: {
          experimentId: experiment.id,
          parameters: request.body.parameters as object[],
          engine: engine.name,
          runs: {
            create: points.map((point) => ({
              experimentId: experiment.id,
              seed,
              label: point.label,
              config: { ...point.config, seed },
            })),
          },
        },
        include: { runs: { orderBy: { createdAt: 'asc' } } },
      });
      for (const run of sweep.runs)
        await engine.submit({ run: run.id, config: run.config as ExperimentConfig, seed });
      return reply.status(202).send(await sweepView(sweep.id));
    },
  );

  app.get(
    '/sweeps/:sweep',
    {
      schema: {
        tags: ['runs'],
        summary: 'A sweep and its runs',
        params: SweepParams,
        response: { 200: SweepView, ...errors },
      },
    },
    async (request) => sweepView(request.params.sweep),
  );

  app.get(
    '/compare',
    {
      schema: {
        tags: ['runs'],
        summary:
          'Compare two or more runs: metrics with deltas and ratios, histograms on shared bins, config diff',
        querystring: CompareQuery,
        response: { 200: CompareResult, ...errors },
      },
    },
    async (request) => {
      const ids = [
        ...new Set(
          request.query.runs
            .split(',')
            .map((id) => id.trim())
            .filter(Boolean),
        ),
      ];
      if (ids.length < 2)
        throw new HttpError(
          400,
          'EVALIDATION',
          'querystring /runs names fewer than two runs.',
          'too-few-runs',
          'querystring/runs',
        );
      const runs = await Promise.all(ids.map(runOrThrow));
      return compareRuns(
        runs.map((run) => ({
          id: run.id,
          label: run.label,
          experiment: run.experimentId,
          config: run.config,
          metrics: run.metrics,
          histograms: run.histograms as Record<string, [number, number][]> | null,
        })),
      );
    },
  );
};

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
