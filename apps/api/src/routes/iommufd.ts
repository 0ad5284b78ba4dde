/**
 * A lab's /dev/iommu: one route per ioctl a VMM makes (the emulator's Iommufd, reference §4), and a binary
 * channel per fault object and per vEVENTQ that behaves as its file descriptor does:
 * - the client sends `{"op":"read","count":N}` and gets one binary frame with the whole records that fit
 *   (maybe none: an empty frame), or an error with the errno (ESPIPE for a size that is not whole records);
 * - a binary frame from the client is a write(): struct iommu_hwpt_page_response records, answered with
 *   `{"type":"written","bytes":n}` or the errno (a vEVENTQ takes no writes: EINVAL, as its fops have none);
 * - the server sends `{"type":"readable"}` when the queue goes from nothing to read to something (EPOLLIN).
 * The channel reads and writes the lab's simulated state at the moment the frame arrives; a paused lab's
 * clock moves only by its clock route, as a stopped VM's would.
 */
import { IOMMU_HWPT_PGFAULT, isEmulatorError, type FaultQueue, type VeventQueue } from '@iommu-lab/emulator';
import {
  AttachPtBody,
  type ChannelClientMessage,
  ChannelClientMessageSchema,
  type ChannelServerMessage,
  DetachPtBody,
  ErrorSchema,
  FaultAllocBody,
  HwptAllocBody,
  IommufdBindBody,
  IommufdIds,
  IommufdObjectParams,
  IommufdObjectView,
  IoasMapBody,
  LabParams,
  VdeviceAllocBody,
  VeventqAllocBody,
  ViommuAllocBody,
} from '@iommu-lab/wire';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { WebSocket } from 'ws';
import { schemaCheck, sentence } from '../plugins/schema-check';

const errors = { 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema };
const messageProblem = schemaCheck(ChannelClientMessageSchema);
/** A client that leaves this much unread on its socket is not reading: its channel is closed. */
const MAX_BUFFERED_BYTES = 1 << 22;

type Queue = FaultQueue | VeventQueue;

/** The sockets open on each queue: all of them hear `readable` (several readers of one fd, as after dup). */
const channels = new WeakMap<Queue, Set<WebSocket>>();

function send(socket: WebSocket, message: ChannelServerMessage): void {
  socket.send(JSON.stringify(message));
}

/** An emulator refusal as the channel's error message; null for anything else. */
function errorMessage(error: unknown): ChannelServerMessage | null {
  if (!isEmulatorError(error)) return null;
  return {
    type: 'error',
    code: error.code,
    message: error.message,
    ...(error.reason ? { reason: error.reason } : {}),
  };
}

function listen(queue: Queue, socket: WebSocket): void {
  let sockets = channels.get(queue);
  if (sockets === undefined) {
    const open = new Set<WebSocket>();
    sockets = open;
    channels.set(queue, open);
    queue.onReadable = () => {
      for (const each of open) send(each, { type: 'readable' });
    };
  }
  sockets.add(socket);
  socket.on('close', () => {
    sockets.delete(socket);
  });
}

export const iommufdRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const fd = (lab: string) => app.labs.get(lab).system.iommufd;
  const post = <B extends object>(
    path: string,
    summary: string,
    body: B,
    call: (lab: string, body: never) => Record<string, number | string> | undefined,
  ) =>
    app.post(
      `/labs/:lab/iommufd/${path}`,
      {
        schema: {
          tags: ['iommufd'],
          summary,
          params: LabParams,
          body: body as never,
          response: { 200: IommufdIds, ...errors },
        },
      },
      async (request) => call(request.params.lab, request.body as never) ?? {},
    );

  post(
    'devices',
    'VFIO_DEVICE_BIND_IOMMUFD: bind a device, get its dev_id',
    IommufdBindBody,
    (lab, b: { device: string }) => fd(lab).bind(b.device),
  );
  post('ioas', 'IOMMU_IOAS_ALLOC', Type.Object({}, { additionalProperties: false }), (lab) =>
    fd(lab).ioasAlloc(),
  );
  post(
    'faults',
    'IOMMU_FAULT_QUEUE_ALLOC: a fault object and its fd (the channel)',
    FaultAllocBody,
    (lab, b: object) => fd(lab).faultQueueAlloc(b),
  );
  post(
    'hwpts',
    'IOMMU_HWPT_ALLOC: paging (on an IOAS) or nested (on a nest parent or a vIOMMU)',
    HwptAllocBody,
    (lab, b: never) => fd(lab).hwptAlloc(b),
  );
  post('attach', 'VFIO_DEVICE_ATTACH_IOMMUFD_PT', AttachPtBody, (lab, b: never) => fd(lab).attach(b));
  post(
    'replace',
    'VFIO_DEVICE_ATTACH_IOMMUFD_PT over an attachment (replace)',
    AttachPtBody,
    (lab, b: never) => fd(lab).replace(b),
  );
  post(
    'detach',
    'VFIO_DEVICE_DETACH_IOMMUFD_PT: the groups of that attach get INVALID',
    DetachPtBody,
    (lab, b: never) => {
      fd(lab).detach(b);
      return undefined;
    },
  );
  post('viommus', 'IOMMU_VIOMMU_ALLOC', ViommuAllocBody, (lab, b: never) => fd(lab).viommuAlloc(b));
  post('vdevices', 'IOMMU_VDEVICE_ALLOC: a virtual ID for a device', VdeviceAllocBody, (lab, b: never) =>
    fd(lab).vdeviceAlloc(b),
  );
  post(
    'veventqs',
    'IOMMU_VEVENTQ_ALLOC: a vEVENTQ and its fd (the channel)',
    VeventqAllocBody,
    (lab, b: never) => fd(lab).veventqAlloc(b),
  );

  app.post(
    '/labs/:lab/iommufd/ioas/:id/map',
    {
      schema: {
        tags: ['iommufd'],
        summary: 'IOMMU_IOAS_MAP at a fixed IOVA (the host stage 2 of every HWPT on the IOAS)',
        params: IommufdObjectParams,
        body: IoasMapBody,
        response: { 200: IommufdIds, ...errors },
      },
    },
    async (request) => {
      fd(request.params.lab).ioasMap(request.params.id, request.body);
      return {};
    },
  );

  app.get(
    '/labs/:lab/iommufd/objects',
    {
      schema: {
        tags: ['iommufd'],
        summary: "The iommufd's objects, by id",
        params: LabParams,
        response: { 200: Type.Array(IommufdObjectView), ...errors },
      },
    },
    async (request) => fd(request.params.lab).describe(),
  );

  app.delete(
    '/labs/:lab/iommufd/objects/:id',
    {
      schema: {
        tags: ['iommufd'],
        summary: 'IOMMU_DESTROY (a device object: unbind, as closing its VFIO file does)',
        params: IommufdObjectParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const iommufd = fd(request.params.lab);
      const object = iommufd.describe().find((o) => o.id === request.params.id);
      if (object?.type === 'device') iommufd.unbind(request.params.id);
      else iommufd.destroy(request.params.id);
      return reply.status(204).send(null);
    },
  );

  for (const kind of ['fault', 'veventq'] as const) {
    app.get(
      `/labs/:lab/iommufd/${kind === 'fault' ? 'faults' : 'veventqs'}/:id/channel`,
      {
        websocket: true,
        schema: {
          tags: ['iommufd'],
          summary: `Websocket: the ${kind === 'fault' ? "fault object's" : "vEVENTQ's"} file (binary frames)`,
          params: IommufdObjectParams,
          response: { 404: ErrorSchema },
        },
        // A missing lab or object is a plain 404 before the upgrade.
        preValidation: async (request) => {
          const { lab, id } = request.params as { lab: string; id: number };
          if (kind === 'fault') fd(lab).faultQueue(Number(id));
          else fd(lab).veventq(Number(id));
        },
      },
      (socket, request) => {
        const { lab, id } = request.params as { lab: string; id: number };
        const queue: Queue = kind === 'fault' ? fd(lab).faultQueue(Number(id)) : fd(lab).veventq(Number(id));
        const recordBytes =
          kind === 'fault' ? IOMMU_HWPT_PGFAULT.bytes : 8 + (queue as VeventQueue).dataBytes;
        listen(queue, socket);
        send(socket, { type: 'hello', object: Number(id), kind, recordBytes, readable: queue.readable() });
        /** What one frame from the client answers: the bytes of a read, or a text message. */
        const answer = (data: Buffer, isBinary: boolean): Uint8Array | ChannelServerMessage => {
          if (isBinary)
            return kind === 'veventq'
              ? {
                  type: 'error',
                  code: 'EINVAL',
                  message: 'a vEVENTQ file takes no writes.',
                  reason: 'read-only',
                }
              : { type: 'written', bytes: (queue as FaultQueue).write(new Uint8Array(data)) };
          let parsed: unknown;
          try {
            parsed = JSON.parse(String(data));
          } catch {
            return {
              type: 'error',
              code: 'EVALIDATION',
              message: 'text messages are JSON: {"op":"read","count":N}.',
            };
          }
          const problem = messageProblem(parsed);
          if (problem)
            return {
              type: 'error',
              code: 'EVALIDATION',
              message: sentence(`message ${problem.path} ${problem.detail}`),
            };
          return queue.read((parsed as ChannelClientMessage).count);
        };
        socket.on('message', (data: Buffer, isBinary: boolean) => {
          if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
            socket.close(1008, 'the client does not read what it asked for');
            return;
          }
          // The object may have gone (destroyed, the lab reset or deleted): the fd is closed.
          let current: Queue | null = null;
          try {
            current = kind === 'fault' ? fd(lab).faultQueue(Number(id)) : fd(lab).veventq(Number(id));
          } catch {
            // current stays null
          }
          if (current !== queue) {
            socket.close(1011, `iommufd object ${id} is gone`);
            return;
          }
          try {
            const reply = answer(data, isBinary);
            if (reply instanceof Uint8Array) socket.send(reply, { binary: true });
            else send(socket, reply);
          } catch (error) {
            // An emulator refusal is the errno the file would give; anything else is a bug that ends this
            // channel, not the server.
            const refusal = errorMessage(error);
            if (refusal !== null) send(socket, refusal);
            else {
              request.log.error({ err: error }, 'iommufd channel failed');
              socket.close(1011, 'internal error');
            }
          }
        });
      },
    );
  }
};
