/** Labs: create (empty, from a config, from a preset), list, get, reset, delete; presets; the live clock. */
import { PRESETS } from '@iommu-lab/emulator';
import {
  ClockBody,
  ClockState,
  CreateLabBody,
  ErrorSchema,
  LabDetail,
  LabParams,
  LabSummary,
  PresetView,
} from '@iommu-lab/wire';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { HttpError } from '../plugins/errors';

const errors = { 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema };

export const labRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/presets',
    {
      schema: {
        tags: ['labs'],
        summary: 'Scenario presets of the seed thread',
        response: { 200: Type.Array(PresetView) },
      },
    },
    async () =>
      PRESETS.map((preset) => ({
        id: preset.id,
        title: preset.title,
        description: preset.description,
        ...(preset.compareWith ? { compareWith: preset.compareWith } : {}),
        config: preset.config,
        workload: preset.workload,
      })),
  );

  app.post(
    '/labs',
    {
      schema: {
        tags: ['labs'],
        summary: 'Create a lab: empty, from a system config, or from a preset',
        body: CreateLabBody,
        response: { 201: LabDetail, ...errors },
      },
    },
    async (request, reply) => {
      const lab = app.labs.create(request.body);
      return reply.status(201).send({ ...lab.summary(), system: lab.system.describe() });
    },
  );

  app.get(
    '/labs',
    { schema: { tags: ['labs'], summary: 'List labs', response: { 200: Type.Array(LabSummary) } } },
    async () => app.labs.list().map((lab) => lab.summary()),
  );

  app.get(
    '/labs/:lab',
    {
      schema: {
        tags: ['labs'],
        summary: 'A lab and its whole topology',
        params: LabParams,
        response: { 200: LabDetail, ...errors },
      },
    },
    async (request) => {
      const lab = app.labs.get(request.params.lab);
      return { ...lab.summary(), system: lab.system.describe() };
    },
  );

  app.post(
    '/labs/:lab/reset',
    {
      schema: {
        tags: ['labs'],
        summary: 'Rebuild the lab from what it was created from',
        params: LabParams,
        response: { 200: LabDetail, ...errors },
      },
    },
    async (request) => {
      const lab = app.labs.get(request.params.lab);
      lab.reset();
      return { ...lab.summary(), system: lab.system.describe() };
    },
  );

  app.delete(
    '/labs/:lab',
    {
      schema: {
        tags: ['labs'],
        summary: 'Delete a lab',
        params: LabParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      app.labs.delete(request.params.lab);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/labs/:lab/clock',
    {
      schema: {
        tags: ['clock'],
        summary: 'The live clock',
        params: LabParams,
        response: { 200: ClockState, ...errors },
      },
    },
    async (request) => app.labs.get(request.params.lab).summary().clock,
  );

  app.post(
    '/labs/:lab/clock',
    {
      schema: {
        tags: ['clock'],
        summary: 'Run (at a speed, or "max"), pause, or step the simulated clock',
        params: LabParams,
        body: ClockBody,
        response: { 200: ClockState, ...errors },
      },
    },
    async (request) => {
      const lab = app.labs.get(request.params.lab);
      const { action, speed, steps } = request.body;
      if (action === 'run') lab.clock.run(speed ?? lab.clock.speed);
      else if (action === 'pause') lab.clock.pause();
      else {
        if (lab.clock.state === 'running')
          throw new HttpError(
            409,
            'EBUSY',
            'the clock is running; pause it before stepping.',
            'clock-running',
          );
        lab.clock.step(steps ?? 1);
      }
      return lab.summary().clock;
    },
  );
};
