/**
 * Metrics as series binned in simulated time: a live lab's, up to its simulated now, and a finished
 * run's, stored with the run at the emulator's own width and re-binned here the same way the emulator
 * re-bins (rebinSeries). A width that would give more than 10 000 bins is the emulator's EINVAL
 * (too-many-bins), a 422 through plugins/errors.ts.
 */
import { type SimSeriesAnswer, rebinSeries } from '@iommu-lab/emulator';
import { ErrorSchema, LabParams, RunParams, SeriesAnswer, SeriesQuery } from '@iommu-lab/wire';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HttpError } from '../plugins/errors';
import { findRun } from './experiment-views';

const errors = { 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema };

export const seriesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/labs/:lab/series',
    {
      schema: {
        tags: ['labs'],
        summary:
          "The lab's metrics in simulated time: fault rate, responses by code, outstanding page requests per device, queue occupancy, IOTLB and ATC hit rate",
        params: LabParams,
        querystring: SeriesQuery,
        response: { 200: SeriesAnswer, ...errors },
      },
    },
    async (request) => app.labs.get(request.params.lab).system.series({ binNs: request.query.binNs }),
  );

  app.get(
    '/runs/:run/series',
    {
      schema: {
        tags: ['runs'],
        summary:
          "A finished run's metrics in simulated time, re-binned from the width it was stored at (a finer width is answered at that one)",
        params: RunParams,
        querystring: SeriesQuery,
        response: { 200: SeriesAnswer, ...errors },
      },
    },
    async (request) => {
      const run = await findRun(app, request.params.run);
      if (run.status !== 'done')
        throw new HttpError(
          409,
          'ERUNSTATE',
          `run "${run.id}" is ${run.status}: its series is stored when it is done.`,
          'run-not-done',
        );
      if (run.series === null)
        throw new HttpError(
          404,
          'ENOENT',
          `run "${run.id}" has no series: it finished before runs stored them; run its experiment again.`,
          'no-series',
        );
      return rebinSeries(run.series as unknown as SimSeriesAnswer, request.query.binNs);
    },
  );
};
