/**
 * Experiments: CRUD, export and import as files (format and version checked), and saving a live lab as one.
 * Every way in builds the experiment's system and checks its workload against it first, so an experiment
 * that could not run is refused when saved (422 with the path of the bad field), not when run.
 */
import { type System, checkWorkload, exportConfig, isEmulatorError } from '@iommu-lab/emulator';
import {
  Document,
  EXPERIMENT_CONFIG_VERSION,
  EXPERIMENT_FILE_FORMAT,
  ErrorSchema,
  type ExperimentConfig,
  type ExperimentFile,
  ExperimentBody,
  ExperimentConfigSchema,
  ExperimentFileSchema,
  ExperimentParams,
  ExperimentPatch,
  ExperimentView,
  LabParams,
  SaveLabBody,
} from '@iommu-lab/wire';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { HttpError } from '../plugins/errors';
import { experimentSystem } from '../runs/experiment-system';
import { schemaCheck, sentence } from '../plugins/schema-check';
import { fileCheck } from './imported-file';

import { WITH_RUN_COUNT, experimentView, findExperiment } from './experiment-views';

const errors = { 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema };
const checkFile = fileCheck<ExperimentFile>({
  noun: 'experiment',
  format: EXPERIMENT_FILE_FORMAT,
  version: EXPERIMENT_CONFIG_VERSION,
  foreign: 'not-an-experiment',
  schema: ExperimentFileSchema,
});
const configProblem = schemaCheck(ExperimentConfigSchema);

/** The emulator's refusal as a 422 at `at` + its own path within the document. */
function refusedAt(at: string, error: unknown): never {
  if (!isEmulatorError(error)) throw error;
  throw new HttpError(422, error.code, error.message, error.reason, `${at}${error.path ?? ''}`);
}

/**
 * Builds the system a run of the config would build (experiment-system.ts) and checks its workload on it; `at`
 * is where the config sits in the request.
 */
function checkRunnable(config: ExperimentConfig, at: string): void {
  let system: System;
  try {
    system = experimentSystem(config, config.seed);
  } catch (error) {
    refusedAt(`${at}/system`, error);
  }
  try {
    checkWorkload(system, config.workload);
  } catch (error) {
    refusedAt(`${at}/workload`, error);
  }
}

export const experimentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { prisma } = app.db;
  const experimentOrThrow = (id: string) => findExperiment(app, id);
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
        include: WITH_RUN_COUNT,
      }),
    );

  app.post(
    '/experiments',
    {
      config: { needs: ['database'] },
      schema: {
        tags: ['experiments'],
        summary: 'Save an experiment: system config + workload + handler policy + seed',
        body: ExperimentBody,
        response: { 201: ExperimentView, ...errors },
      },
    },
    async (request, reply) => {
      checkRunnable(request.body.config, '/config');
      return reply.status(201).send(await create(request.body));
    },
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
      const all = await prisma.experiment.findMany({
        orderBy: { createdAt: 'desc' },
        include: WITH_RUN_COUNT,
      });
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
      config: { needs: ['database'] },
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
      if (request.body.config) checkRunnable(request.body.config, '/config');
      const updated = await prisma.experiment.update({
        where: { id: request.params.experiment },
        data: request.body,
        include: WITH_RUN_COUNT,
      });
      return experimentView(updated);
    },
  );

  app.delete(
    '/experiments/:experiment',
    {
      config: { needs: ['database'] },
      schema: {
        tags: ['experiments'],
        summary:
          'Delete an experiment; one with runs only with ?cascade=true, which deletes its runs and fault logs too',
        params: ExperimentParams,
        querystring: Type.Object(
          {
            cascade: Type.Optional(
              Type.Enum(['true', 'false'], {
                description: 'true: delete its runs with it (needed when it has any).',
              }),
            ),
          },
          { additionalProperties: false },
        ),
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
      // Runs are results someone may still need: deleting them with the experiment is asked for, not implied.
      const runs = await prisma.run.count({ where: { experimentId: request.params.experiment } });
      if (runs > 0 && request.query.cascade !== 'true')
        throw new HttpError(
          409,
          'EHASRUNS',
          `the experiment has ${runs} run${runs === 1 ? '' : 's'}; delete with ?cascade=true to delete ${runs === 1 ? 'it' : 'them'} too.`,
          'has-runs',
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
      config: { needs: ['database'] },
      schema: {
        tags: ['experiments'],
        summary: 'Import an exported experiment file (format and version checked first)',
        body: Document,
        response: { 201: ExperimentView, ...errors },
      },
    },
    async (request, reply) => {
      const { experiment } = checkFile(request.body);
      checkRunnable(experiment.config, '/experiment/config');
      return reply.status(201).send(await create(experiment));
    },
  );

  app.post(
    '/labs/:lab/experiment',
    {
      config: { needs: ['database'] },
      schema: {
        tags: ['experiments'],
        summary:
          "Save a live lab's topology, read from its emulated system, as an experiment (with a workload to run); `omitted` lists what a config cannot hold",
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
      const exported = exportConfig(lab.system);
      const config = {
        version: EXPERIMENT_CONFIG_VERSION,
        system: exported.config,
        workload,
        seed: request.body.seed ?? lab.system.describe().seed,
        ...(request.body.policy ? { policy: request.body.policy } : {}),
      };
      const problem = configProblem(config);
      if (problem)
        throw new HttpError(
          422,
          'EINVAL',
          sentence(`the lab cannot be saved yet: config ${problem.path} ${problem.detail}`),
          'incomplete-lab',
          problem.path,
        );
      // Checked on the system the experiment will run (rebuilt from the export); the workload sits at /workload.
      checkRunnable(config as ExperimentConfig, '');
      const { name, description, tags } = request.body;
      const saved = await create({
        name,
        ...(description ? { description } : {}),
        ...(tags ? { tags } : {}),
        config,
      });
      return reply.status(201).send({ ...saved, omitted: exported.omitted });
    },
  );
};
