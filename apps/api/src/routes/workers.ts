/** Queue workers: each process that takes runs from the BullMQ queue, its machine, versions and current runs. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { WorkersView } from '@iommu-lab/wire';

export const workerRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/workers',
    {
      schema: {
        tags: ['runs'],
        summary:
          'Queue workers whose heartbeats reach Redis (and the recently lost), their cores and current runs; none without REDIS_URL',
        response: { 200: WorkersView },
      },
    },
    async () => {
      const engine = app.engines.bullmq;
      if (!engine) return { queue: null, workers: [] };
      const listed = await engine.workers();
      const ids = listed.flatMap((worker) => worker.runs.map((run) => run.run));
      const runs = new Map(
        (
          await app.db.prisma.run.findMany({
            where: { id: { in: ids } },
            select: { id: true, label: true, sweepId: true },
          })
        ).map((run) => [run.id, run]),
      );
      return {
        queue: engine.health(),
        workers: listed.map((worker) => ({
          ...worker,
          runs: worker.runs.map((run) => ({
            ...run,
            label: runs.get(run.run)?.label ?? '',
            sweep: runs.get(run.run)?.sweepId ?? null,
          })),
        })),
      };
    },
  );
};
