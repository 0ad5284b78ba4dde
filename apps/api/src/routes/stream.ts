/**
 * A lab's live stream over a websocket: the client subscribes with a filter, gets events in batches (and
 * how many it lost when it could not keep up), and may answer page requests as the outside handler:
 * pending groups arrive as fault.awaiting-client events with cookies, answers go back as
 * {type:"respond", cookie, code}, as a VMM answers an iommufd fault queue.
 */
import { type ClientMessage, ClientMessageSchema, ErrorSchema, LabParams } from '@iommu-lab/wire';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { isEmulatorError } from '@iommu-lab/emulator';
import { schemaCheck, sentence } from '../plugins/schema-check';

const messageProblem = schemaCheck(ClientMessageSchema);

export const streamRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/labs/:lab/stream',
    {
      websocket: true,
      schema: {
        tags: ['stream'],
        summary: 'Websocket: live events with filters, and the outside fault handler',
        params: LabParams,
        response: { 404: ErrorSchema },
      },
      // A lab that does not exist is a plain 404, before the upgrade.
      preValidation: async (request) => {
        app.labs.get((request.params as { lab: string }).lab);
      },
    },
    (socket, request) => {
      const lab = app.labs.get((request.params as { lab: string }).lab);
      const client = lab.hub.add(socket, {});
      client.send({
        type: 'hello',
        lab: lab.id,
        timeNs: lab.system.nowNs,
        seq: lab.history.oldestSeq,
        latest: lab.history.latestSeq,
        filter: client.filter,
      });
      // At most messagesPerSecond are taken; replies count against the client's byte bound (client-socket.ts).
      client.channel.onMessage((raw) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(String(raw));
        } catch {
          client.send({ type: 'error', code: 'EVALIDATION', message: 'messages are JSON.' });
          return;
        }
        const problem = messageProblem(parsed);
        if (problem) {
          client.send({
            type: 'error',
            code: 'EVALIDATION',
            message: sentence(`message ${problem.path} ${problem.detail}`),
          });
          return;
        }
        const message = parsed as ClientMessage;
        if (message.type === 'ping') client.send({ type: 'pong' });
        else if (message.type === 'subscribe')
          lab.hub.subscribe(client, message.filter ?? {}, message.encoding ?? 'json');
        else {
          try {
            lab.system.respondToFault(message.cookie, message.code);
            client.send({ type: 'responded', cookie: message.cookie, code: message.code });
          } catch (error) {
            if (!isEmulatorError(error)) throw error;
            client.send({ type: 'error', code: error.code, message: error.message, cookie: message.cookie });
          }
        }
      });
    },
  );
};
