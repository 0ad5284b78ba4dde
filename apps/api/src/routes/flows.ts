/**
 * A lab's fault flows: the ended ones, listed with filters and paged like the fault history, and one
 * flow's story ("where did this fault's time go"): its anatomy record with every hop, its events in
 * order, its causes and its effects (labs/flow-log.ts).
 */
import { ErrorSchema, FlowDetail, FlowPage, FlowParams, FlowQuery, LabParams } from '@iommu-lab/wire';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { compileFlowFilter } from '../labs/flow-log';

const errors = { 400: ErrorSchema, 404: ErrorSchema };

export const flowRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/labs/:lab/flows',
    {
      schema: {
        tags: ['flows'],
        summary:
          "The lab's ended fault flows, oldest first, paged by their flow.ended event's seq (next is the next after) and filtered; slowest=N gives the N slowest instead",
        params: LabParams,
        querystring: FlowQuery,
        response: { 200: FlowPage, ...errors },
      },
    },
    async (request) => {
      const { flows } = app.labs.get(request.params.lab);
      const { after = -1, limit = 100, slowest } = request.query;
      const match = compileFlowFilter(request.query);
      if (slowest !== undefined)
        return { flows: flows.slowest(slowest, match), next: -1, oldest: flows.oldestSeq };
      const page = flows.page(after, limit, match);
      return { flows: page, next: page.at(-1)?.seq ?? -1, oldest: flows.oldestSeq };
    },
  );

  app.get(
    '/labs/:lab/flows/:flow',
    {
      schema: {
        tags: ['flows'],
        summary:
          'One fault flow: its anatomy (every hop with its start and latency, summing to the end-to-end latency), its events in order, its causes, its effects, and the flow that replaced it',
        params: FlowParams,
        response: { 200: FlowDetail, ...errors },
      },
    },
    async (request) => {
      const lab = app.labs.get(request.params.lab);
      return lab.flows.story(request.params.flow, lab.history) as never;
    },
  );
};
