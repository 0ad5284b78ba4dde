/**
 * Runs: started in the background (progress on the run resource and its websocket), their results and
 * fault log (paged, filtered, or downloaded as CSV / JSONL), traces, sweeps over parameters, and comparison.
 */
import {
  CompareQuery,
  CompareResult,
  Document,
  ErrorSchema,
  type ExperimentConfig,
  ExperimentParams,
  FaultPage,
  FaultQuery,
  RunParams,
  RunView,
  StartRunBody,
  SweepBody,
  SweepParams,
  SweepView,
} from '@iommu-lab/wire';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { SimSeriesAnswer } from '@iommu-lab/emulator';
import { FAULT_COLUMNS } from '@iommu-lab/db';
import { Readable } from 'node:stream';
import Type from 'typebox';
import { HttpError } from '../plugins/errors';
import { compareRuns } from '../runs/compare';
import { storedRecordsCell, withStoredRecords } from '../runs/fault-log-records';
import { expandSweep } from '../runs/sweep';
import { ClientSocket } from '../stream/client-socket';
import { DEFAULT_STREAM_LIMITS } from '../stream/stream-hub';

import { findEngine, findExperiment, findRun, runView, sweepWorkers } from './experiment-views';

const errors = { 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema };

export const runRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { prisma } = app.db;
  const experimentOrThrow = (id: string) => findExperiment(app, id);
  const runOrThrow = (id: string) => findRun(app, id);

  app.post(
    '/experiments/:experiment/runs',
    {
      config: { needs: ['queue', 'database'] },
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
      const engine = findEngine(app, request.body.engine ?? 'local');
      const config = experiment.config as ExperimentConfig;
      const seed = request.body.seed ?? config.seed;
      // Refused before anything is saved when the engine cannot take work.
      await engine.ready();
      const run = await app.db.runs.create({
        experimentId: experiment.id,
        seed,
        label: request.body.label ?? `seed ${seed}`,
        engine: engine.name,
        // The config it runs, with the run's seed: what a comparison diffs.
        config: { ...config, seed },
      });
      try {
        await engine.submit([{ run: run.id, config: { ...config, seed }, seed }]);
      } catch (error) {
        await app.db.runs.discard(run.id);
        throw error;
      }
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
      return runs.map((run) => runView(app.db.runs.view(run)));
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
        response: {
          200: {
            description: 'A page (format=json), or every matching record (format=csv or jsonl)',
            content: {
              'application/json': { schema: FaultPage },
              'text/csv': { schema: Type.String({ description: 'A header line, then a line per record' }) },
              'application/x-ndjson': { schema: Type.String({ description: 'A JSON object per line' }) },
            },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const run = await runOrThrow(request.params.run);
      const { after = -1, limit = 100, format = 'json', ...filter } = request.query;
      if (format === 'json') {
        const records = app.db.faults.page(run.id, after, limit, filter);
        return {
          records: records.map(withStoredRecords),
          next: records.at(-1)?.seq ?? -1,
          total: app.db.faults.count(run.id, filter),
        };
      }
      const rows = app.db.faults.iterate(run.id, filter);
      const lines = (function* () {
        if (format === 'csv') yield `${FAULT_COLUMNS.join(',')}\n`;
        for (const row of rows)
          yield format === 'csv'
            ? `${FAULT_COLUMNS.map((column) => csvField(column === 'records' ? storedRecordsCell(row.records) : row[column])).join(',')}\n`
            : `${JSON.stringify(withStoredRecords(row))}\n`;
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
          "A run's trace as Chrome trace-event JSON (open it in Perfetto): DMA transactions and fault flows as async slices with their hops, causal flow arrows, queue / PRI credit / hit-rate counters, in simulated µs",
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
      // Bounded like a lab's stream: a client that never reads is closed (4008), not buffered for.
      const channel = new ClientSocket(socket, DEFAULT_STREAM_LIMITS);
      const send = (message: object) => channel.write(JSON.stringify(message));
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
    const runs = sweep.runs.map((run) => app.db.runs.view(run));
    const statuses = runs.map((run) => run.status);
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
      runs: runs.map(runView),
      workers: sweepWorkers(runs),
    };
  };

  app.post(
    '/experiments/:experiment/sweeps',
    {
      config: { needs: ['queue', 'database'] },
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
      const engine = findEngine(app, request.body.engine);
      const seed = request.body.seed ?? config.seed;
      const points = expandSweep(config, request.body.parameters);
      // A refusal changes nothing: the engine is asked before the sweep is saved, and a sweep it then
      // refuses (all of its jobs or none are queued) is removed.
      await engine.ready();
      const sweep = await app.db.runs.createSweep({
        experimentId: experiment.id,
        parameters: request.body.parameters as object[],
        engine: engine.name,
        runs: points.map((point) => ({
          experimentId: experiment.id,
          seed,
          label: point.label,
          config: { ...point.config, seed },
        })),
      });
      try {
        await engine.submit(
          sweep.runs.map((run) => ({ run: run.id, config: run.config as ExperimentConfig, seed })),
        );
      } catch (error) {
        await app.db.runs.discardSweep(sweep.id);
        throw error;
      }
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
          'Compare two or more runs: metrics (never series) by system / IOMMU / device with deltas and ratios, where the fault time went per hop, histograms on shared bins, series on one width to overlay, config diff',
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
          simulatedNs: run.simulatedNs,
          series: run.series as unknown as SimSeriesAnswer | null,
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
