/**
 * Fault injection in a lab: a raw PCIe Page Request from a device, with the events it caused, and fail-nth,
 * the nth allocation of a kind failing. The emulator checks and carries out both (its injection/ folder);
 * a lab's reset builds a new system, with nothing armed.
 */
import type { EmulatorEvent } from '@iommu-lab/emulator';
import {
  DeviceParams,
  ErrorSchema,
  FailNthBody,
  FailNthQuery,
  FailNthView,
  LabParams,
  PageRequestBody,
  PageRequestResult,
} from '@iommu-lab/wire';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

const errors = { 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema };

/** Events a paused lab may run to reach its next idle; past it the answer says it is not idle yet (202). */
const EVENT_BUDGET = 5_000_000;
/** Events returned with an injected request. */
const MAX_EVENTS = 1_000;

export const injectionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/labs/:lab/devices/:device/page-requests',
    {
      schema: {
        tags: ['faults'],
        summary:
          'Inject a PCIe Page Request from the device: it reaches the IOMMU now, with no transaction or credit behind it, and goes the way of any (queue, driver checks, iopf core, response). A paused lab is run to its next idle and the answer lists the events it caused; a running lab answers 202 with those so far',
        params: DeviceParams,
        body: PageRequestBody,
        response: { 200: PageRequestResult, 202: PageRequestResult, ...errors },
      },
    },
    async (request, reply) => {
      const lab = app.labs.get(request.params.lab);
      const { device } = request.params;
      const events: EmulatorEvent[] = [];
      // Known once injected; until then its events are those naming the device (its pri.page-request).
      let seq = -1;
      const stop = lab.system.onAny((event) => {
        const fields = event as unknown as { device?: string; request?: number; requests?: number[] };
        if (
          events.length < MAX_EVENTS &&
          (fields.device === device || fields.request === seq || fields.requests?.includes(seq))
        )
          events.push(event);
      });
      try {
        const injected = lab.system.injectPageRequest({ device, ...request.body });
        seq = injected.request;
        let idle = lab.system.pendingEvents === 0;
        if (lab.clock.state === 'paused')
          for (let ran = 0; ran < EVENT_BUDGET && !idle; ran++) idle = !lab.system.step();
        return await reply
          .status(idle ? 200 : 202)
          .send({ ...injected, idle, events: events as unknown as Record<string, unknown>[] });
      } finally {
        stop();
      }
    },
  );

  app.get(
    '/labs/:lab/fail-nth',
    {
      schema: {
        tags: ['faults'],
        summary: 'fail-nth counters: allocations of each kind, those that failed, and what is armed',
        params: LabParams,
        response: { 200: FailNthView, ...errors },
      },
    },
    async (request) => app.labs.get(request.params.lab).system.failNthCounters(),
  );

  app.put(
    '/labs/:lab/fail-nth',
    {
      schema: {
        tags: ['faults'],
        summary:
          'Arm fail-nth: the nth allocation of the kind from now fails, and the lab answers as the kernel does there (group: FAILURE to the page request group; fault-queue-slot: the iommufd read stops, ENOMEM if it read nothing; domain: ENOMEM; pasid: ENOSPC, or ENOMEM under seed-5.13)',
        params: LabParams,
        body: FailNthBody,
        response: { 200: FailNthView, ...errors },
      },
    },
    async (request) => {
      const { system } = app.labs.get(request.params.lab);
      system.failNth(request.body);
      return system.failNthCounters();
    },
  );

  app.delete(
    '/labs/:lab/fail-nth',
    {
      schema: {
        tags: ['faults'],
        summary: 'Disarm fail-nth for one kind (?kind=) or all of them; the counters stay',
        params: LabParams,
        querystring: FailNthQuery,
        response: { 200: FailNthView, ...errors },
      },
    },
    async (request) => {
      const { system } = app.labs.get(request.params.lab);
      system.clearFailNth(request.query.kind);
      return system.failNthCounters();
    },
  );
};
