/**
 * What happens in a lab: DMA (one transaction or a workload, with the outcome and the events it caused),
 * page requests waiting for an outside answer, the event and fault history, and metrics.
 */
import { EVENT_KINDS, type EmulatorEvent, type EventKind, type Transaction } from '@iommu-lab/emulator';
import {
  CookieParams,
  DmaBody,
  DmaResult,
  Document,
  ErrorSchema,
  EventPage,
  EventQuery,
  LabParams,
  PendingFaultView,
  RespondBody,
  WorkloadBody,
  WorkloadParams,
  WorkloadResult,
} from '@iommu-lab/wire';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Lab, LabWorkload } from '../labs/lab';
import { HttpError } from '../plugins/errors';
import { compileFilter } from '../stream/event-filter';

const errors = { 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema };

/** Events a paused lab may run to finish one request; past it the answer says "still running". */
const EVENT_BUDGET = 5_000_000;
/** How long a request waits for a transaction or a workload on a running lab. */
const WAIT_MS = 30_000;
/** Events returned with a DMA result. */
const MAX_EVENTS = 1_000;

/** Kinds of the fault history: the fault path from request to response, stalls, overflows. */
const FAULT_KINDS = EVENT_KINDS.filter(
  (kind) => /^(fault|pri|stall)\./.test(kind) || kind === 'iommu.queue-overflow' || kind === 'dma.faulted',
);

function parseKinds(text: string | undefined): EventKind[] | undefined {
  if (text === undefined) return undefined;
  const kinds = text
    .split(',')
    .map((kind) => kind.trim())
    .filter(Boolean);
  const unknown = kinds.find((kind) => !(EVENT_KINDS as readonly string[]).includes(kind));
  if (unknown !== undefined)
    throw new HttpError(
      400,
      'EVALIDATION',
      `querystring /kinds has an unknown event kind ${JSON.stringify(unknown)}.`,
      'unknown-kind',
    );
  // An empty list is no list: the route's default (for the fault history, the fault kinds), not every kind.
  return kinds.length === 0 ? undefined : (kinds as EventKind[]);
}

/** Runs a paused lab until `done`, or waits for a running lab to get there. */
async function runUntil(lab: Lab, done: () => boolean, ended?: Promise<unknown>): Promise<void> {
  if (lab.clock.state === 'paused') {
    for (let ran = 0; ran < EVENT_BUDGET && !done(); ran++) if (!lab.system.step()) break;
    return;
  }
  if (ended) await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, WAIT_MS))]);
}

function dmaResult(transaction: Transaction, events: EmulatorEvent[]) {
  return {
    transaction: transaction.id,
    state: transaction.state,
    error: transaction.error,
    latencyNs: transaction.finishedNs < 0 ? -1 : transaction.latencyNs,
    recoveries: transaction.recoveries,
    bytesDone: transaction.bytesDone,
    fault: transaction.fault as unknown as Record<string, unknown> | null,
    ...(transaction.readBack && transaction.finishedNs >= 0
      ? { data: Buffer.from(transaction.readBack).toString('base64') }
      : {}),
    flows: transaction.flows ?? [],
    events: events as unknown as Record<string, unknown>[],
  };
}

export const activityRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/labs/:lab/dma',
    {
      schema: {
        tags: ['dma'],
        summary: 'One DMA transaction: its outcome and the events it caused',
        params: LabParams,
        body: DmaBody,
        response: { 200: DmaResult, 202: DmaResult, ...errors },
      },
    },
    async (request, reply) => {
      const lab = app.labs.get(request.params.lab);
      const { data, ...spec } = request.body;
      const events: EmulatorEvent[] = [];
      let transaction: Transaction | undefined;
      let resolveEnded: () => void = () => {};
      const ended = new Promise<void>((resolve) => (resolveEnded = resolve));
      const stop = lab.system.onAny((event) => {
        const fields = event as unknown as { transaction?: number; device?: string };
        if (
          events.length < MAX_EVENTS &&
          (fields.transaction === transaction?.id || fields.device === spec.device)
        )
          events.push(event);
      });
      try {
        transaction = lab.system.dma({
          ...spec,
          ...(data === undefined ? {} : { data: new Uint8Array(Buffer.from(data, 'base64')) }),
          onEnd: () => resolveEnded(),
        });
        await runUntil(lab, () => transaction!.finishedNs >= 0, ended);
      } finally {
        stop();
      }
      return reply.status(transaction.finishedNs >= 0 ? 200 : 202).send(dmaResult(transaction, events));
    },
  );

  app.post(
    '/labs/:lab/workloads',
    {
      schema: {
        tags: ['dma'],
        summary:
          'Start a workload and, unless wait is false, answer when it ends: a paused lab is run to the end (within an event budget); on a running lab the request waits for the live clock up to waitMs (30 s at most), then answers 202 with the progress so far, which GET /labs/:lab/workloads/:workload follows',
        params: LabParams,
        body: WorkloadBody,
        response: { 200: WorkloadResult, 202: WorkloadResult, ...errors },
      },
    },
    async (request, reply) => {
      const lab = app.labs.get(request.params.lab);
      const { workload: spec, wait = true, waitMs = WAIT_MS } = request.body;
      const workload = lab.startWorkload(spec);
      if (wait && lab.clock.state === 'paused') await runUntil(lab, () => workload.run.finished);
      else if (wait) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          workload.settled,
          new Promise((resolve) => (timer = setTimeout(resolve, waitMs))),
        ]);
        clearTimeout(timer);
      }
      return reply.status(workload.run.finished ? 200 : 202).send(workloadView(lab, workload));
    },
  );

  app.get(
    '/labs/:lab/workloads/:workload',
    {
      schema: {
        tags: ['dma'],
        summary: "A workload's progress (the lab keeps its last 64; a reset forgets them)",
        params: WorkloadParams,
        response: { 200: WorkloadResult, ...errors },
      },
    },
    async (request) => {
      const lab = app.labs.get(request.params.lab);
      return workloadView(lab, lab.workload(request.params.workload));
    },
  );

  app.get(
    '/labs/:lab/faults/pending',
    {
      schema: {
        tags: ['faults'],
        summary: 'Page request groups waiting for an outside handler, with cookies',
        params: LabParams,
        response: { 200: Type.Array(PendingFaultView), ...errors },
      },
    },
    async (request) => app.labs.get(request.params.lab).system.pendingFaults(),
  );

  app.post(
    '/labs/:lab/faults/:cookie/response',
    {
      schema: {
        tags: ['faults'],
        summary: 'Answer a pending group as the outside handler',
        params: CookieParams,
        body: RespondBody,
        response: { 200: Type.Object({ cookie: Type.Integer(), code: Type.String() }), ...errors },
      },
    },
    async (request) => {
      app.labs.get(request.params.lab).system.respondToFault(request.params.cookie, request.body.code);
      return { cookie: request.params.cookie, code: request.body.code };
    },
  );

  app.get(
    '/labs/:lab/events',
    {
      schema: {
        tags: ['history'],
        summary: 'Event history, paged and filtered',
        params: LabParams,
        querystring: EventQuery,
        response: { 200: EventPage, ...errors },
      },
    },
    async (request) => page(app.labs.get(request.params.lab), request.query, parseKinds(request.query.kinds)),
  );

  app.get(
    '/labs/:lab/faults',
    {
      schema: {
        tags: ['history'],
        summary: 'Fault history: page requests, groups, responses, stalls, unrecoverable faults',
        params: LabParams,
        querystring: EventQuery,
        response: { 200: EventPage, ...errors },
      },
    },
    async (request) =>
      page(app.labs.get(request.params.lab), request.query, parseKinds(request.query.kinds) ?? FAULT_KINDS),
  );

  app.get(
    '/labs/:lab/metrics',
    {
      schema: {
        tags: ['history'],
        summary: 'Metrics: counters, latency histograms, queue occupancy',
        params: LabParams,
        response: { 200: Document, ...errors },
      },
    },
    async (request) =>
      app.labs.get(request.params.lab).system.metrics() as unknown as Record<string, unknown>,
  );
};

function workloadView(lab: Lab, workload: LabWorkload) {
  return {
    id: workload.id,
    progress: { ...workload.run.progress },
    finished: workload.run.finished,
    timeNs: lab.system.nowNs,
    eventsByKind: { ...workload.eventsByKind },
    metrics: lab.system.metrics() as unknown as Record<string, unknown>,
  };
}

function page(
  lab: Lab,
  query: {
    after?: number;
    limit?: number;
    device?: string;
    pasid?: number;
    category?: 'BIND' | 'MAP';
    stage?: 1 | 2;
  },
  kinds: EventKind[] | undefined,
) {
  const match = compileFilter({
    ...(kinds ? { kinds } : {}),
    ...(query.device ? { devices: [query.device] } : {}),
    ...(query.pasid !== undefined ? { pasids: [query.pasid] } : {}),
    ...(query.category ? { categories: [query.category] } : {}),
    ...(query.stage ? { stages: [query.stage] } : {}),
  });
  const events = lab.history.page(query.after ?? -1, query.limit ?? 100, match);
  return { events: events as never, next: events.at(-1)?.seq ?? -1, oldest: lab.history.oldestSeq };
}
