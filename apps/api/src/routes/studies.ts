/**
 * Studies: the built-in ones, running a study (a built-in, a saved one or one posted whole; one sweep per
 * experiment, on a job engine), the study runs and following one, and its report as HTML, CSV and SVG
 * charts, made from its runs when asked for.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ErrorSchema,
  type ExperimentConfig,
  StudyRunBody,
  type StudyRunBodyType,
  StudyRunListQuery,
  StudyRunParams,
  StudyRunView,
  type StudySpec,
  StudySpecSchema,
} from '@iommu-lab/wire';
import Type from 'typebox';
import { HttpError } from '../plugins/errors';
import { findEngine } from './experiment-views';
import { BUILTIN_STUDIES } from '../studies/builtin';
import { expandStudy, withValues } from '../studies/expand-study';
import { chartPng, chartSvg, studyCsv, studyHtml } from '../studies/study-report';
import { WITH_SWEEPS, studyRows, studyRun, studyRunResults, viewOf } from '../studies/study-run-view';
import { findSavedStudy } from './saved-studies';

const errors = { 400: ErrorSchema, 404: ErrorSchema, 422: ErrorSchema };

export const studyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { prisma } = app.db;

  /** The study a run names, and what the study run records of it (the saved study's revision, the built-in). */
  const studyNamed = async (study: StudyRunBodyType['study']) => {
    if (typeof study === 'string') {
      const builtin = BUILTIN_STUDIES[study];
      if (!builtin)
        throw new HttpError(
          404,
          'ENOENT',
          `no built-in study "${study}"; there are ${Object.keys(BUILTIN_STUDIES).join(', ')}.`,
          'no-such-study',
        );
      return { spec: builtin(), ran: { builtin: study } };
    }
    if ('saved' in study) {
      const saved = await findSavedStudy(app, study.saved);
      return { spec: saved.spec as StudySpec, ran: { studyId: saved.id, revision: saved.revision } };
    }
    return { spec: study, ran: {} };
  };

  app.get(
    '/studies',
    {
      schema: {
        tags: ['studies'],
        summary: 'The built-in studies, each as a whole study (run one by name, or post it changed)',
        response: { 200: Type.Array(StudySpecSchema) },
      },
    },
    async () => Object.values(BUILTIN_STUDIES).map((make) => make()),
  );

  app.post(
    '/studies/runs',
    {
      config: { needs: ['queue', 'database'] },
      schema: {
        tags: ['studies'],
        summary: 'Run a study: a sweep per experiment on the job engine; its report follows its runs',
        body: StudyRunBody,
        response: { 202: StudyRunView, ...errors },
      },
    },
    async (request, reply) => {
      const { study, set, engine: engineName } = request.body;
      const named = await studyNamed(study);
      const spec = withValues(named.spec, set);
      const points = expandStudy(spec);
      const engine = findEngine(app, engineName);
      // Refused before anything is saved when the engine cannot take work.
      await engine.ready();
      const created = await prisma.studyRun.create({
        data: { name: spec.name, title: spec.title, spec: spec as object, engine: engine.name, ...named.ran },
      });
      try {
        const jobs = [];
        for (const [i, experiment] of points.experiments.entries()) {
          const config = spec.experiments[i]!.config as ExperimentConfig;
          const saved = await prisma.experiment.create({
            data: {
              name: `${spec.name}: ${experiment.label}`,
              description: spec.title,
              tags: ['study', spec.name],
              configVersion: config.version,
              config: config as object,
            },
          });
          const sweep = await app.db.runs.createSweep({
            experimentId: saved.id,
            parameters: spec.parameters.map(({ path, values }) => ({ path, values })),
            engine: engine.name,
            studyRunId: created.id,
            runs: experiment.points.map((point) => ({
              experimentId: saved.id,
              seed: point.config.seed,
              label: point.label,
              config: point.config as object,
            })),
          });
          jobs.push(
            ...sweep.runs.map((run) => ({
              run: run.id,
              config: run.config as ExperimentConfig,
              seed: run.seed,
            })),
          );
        }
        await engine.submit(jobs);
      } catch (error) {
        await prisma.experiment.deleteMany({ where: { sweeps: { some: { studyRunId: created.id } } } });
        await prisma.studyRun.delete({ where: { id: created.id } });
        throw error;
      }
      return reply.status(202).send(viewOf(app, await studyRun(app, created.id)));
    },
  );

  app.get(
    '/studies/runs',
    {
      schema: {
        tags: ['studies'],
        summary: 'Study runs, newest first (at most `limit`, 50 unless said; only those of study `name`)',
        querystring: StudyRunListQuery,
        response: { 200: Type.Array(StudyRunView), ...errors },
      },
    },
    async (request) => {
      const { limit = 50, name } = request.query;
      const runs = await prisma.studyRun.findMany({
        where: name === undefined ? {} : { name },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: limit,
        include: WITH_SWEEPS,
      });
      return runs.map((run) => viewOf(app, run));
    },
  );

  app.get(
    '/studies/runs/:study',
    {
      schema: {
        tags: ['studies'],
        summary: 'A study run: its progress over its runs, and where its report is',
        params: StudyRunParams,
        response: { 200: StudyRunView, ...errors },
      },
    },
    async (request) => viewOf(app, await studyRun(app, request.params.study)),
  );

  const runUrl = (run: string) => `/api/v1/runs/${run}`;

  app.get(
    '/studies/runs/:study/report',
    {
      schema: {
        tags: ['studies'],
        summary:
          'The report as one self-contained HTML page (charts as SVG, the data as CSV inside); ?download=1 as a file',
        params: StudyRunParams,
        querystring: Type.Object({ download: Type.Optional(Type.Boolean()) }),
        response: {
          200: { description: 'HTML', content: { 'text/html': { schema: Type.String() } } },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const run = await studyRunResults(app, request.params.study);
      const spec = run.spec as StudySpec;
      const view = viewOf(app, run);
      const html = await studyHtml(spec, studyRows(app, run), runUrl, view);
      if (request.query.download)
        reply.header('content-disposition', `attachment; filename="${spec.name}-${run.id}.html"`);
      return reply.type('text/html; charset=utf-8').send(html);
    },
  );

  app.get(
    '/studies/runs/:study/data.csv',
    {
      schema: {
        tags: ['studies'],
        summary:
          "The study's data: a row per run (experiment, swept values, metrics with units, outcome, reason, run id)",
        params: StudyRunParams,
        response: {
          200: { description: 'CSV', content: { 'text/csv': { schema: Type.String() } } },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const run = await studyRunResults(app, request.params.study);
      const spec = run.spec as StudySpec;
      return reply.type('text/csv; charset=utf-8').send(studyCsv(spec, studyRows(app, run)));
    },
  );

  app.get(
    '/studies/runs/:study/charts/:chart',
    {
      schema: {
        tags: ['studies'],
        summary:
          'One chart of the report as SVG (`0.svg`, …; each point links to its run) or PNG (`0.png`, …)',
        params: Type.Object({
          study: Type.String({ maxLength: 64 }),
          chart: Type.String({ pattern: '^\\d{1,2}\\.(svg|png)$' }),
        }),
        response: {
          200: {
            description: 'SVG or PNG',
            content: {
              'image/svg+xml': { schema: Type.String() },
              'image/png': { schema: Type.String({ format: 'binary' }) },
            },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const run = await studyRunResults(app, request.params.study);
      const spec = run.spec as StudySpec;
      const index = Number.parseInt(request.params.chart, 10);
      if (index >= spec.charts.length)
        throw new HttpError(
          404,
          'ENOENT',
          `study ${spec.name} has ${spec.charts.length} charts.`,
          'no-such-chart',
        );
      const svg = await chartSvg(spec, index, studyRows(app, run), runUrl);
      if (request.params.chart.endsWith('.png')) return reply.type('image/png').send(chartPng(svg) as never); // bytes: the schema's binary string
      return reply.type('image/svg+xml').send(svg);
    },
  );
};
