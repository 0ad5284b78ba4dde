/**
 * One place turns every failure into HTTP: the emulator's refusals by their code (the kernel's errno
 * names), the services' refusals by their kind, schema validation, the routes' own refusals, a database
 * that cannot be written, and anything unexpected. Every answer has a stable
 * code and a sentence; a 5xx means a bug, and is logged.
 */
import {
  EmulatorError,
  type ErrorCode,
  explainSchemaErrors,
  type SchemaError,
  sentence,
} from '@iommu-lab/emulator';
import { storageFailure } from '@iommu-lab/db';
import type { ApiError } from '@iommu-lab/wire';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** What kind of refusal a service made; this file alone decides what each is in HTTP. */
export type ServiceErrorKind = 'not-found' | 'conflict' | 'invalid' | 'unavailable';

const KIND_STATUS: Record<ServiceErrorKind, number> = {
  'not-found': 404,
  conflict: 409,
  invalid: 422,
  // Something the request needs (the job queue, the database file) is not there now: try again later.
  unavailable: 503,
};

/** A refusal by service code (labs, sweeps, the job engines): a kind, a stable code and a sentence. */
export class ServiceError extends Error {
  constructor(
    readonly kind: ServiceErrorKind,
    readonly code: string,
    message: string,
    readonly reason?: string,
    /** Where in the request (or document) the problem is. */
    readonly path?: string,
  ) {
    super(message);
  }
}

/** A refusal by a route itself (a query it cannot take, …); services throw ServiceError. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly reason?: string,
    /** Where in the request (or document) the problem is. */
    readonly path?: string,
  ) {
    super(message);
  }
}

/**
 * Status of each emulator refusal: missing things 404, conflicts with current state 409, everything the
 * kernel would refuse as a rule (EINVAL, ENODEV, EOPNOTSUPP, EPROFILE, …) 422.
 */
const STATUS: Record<ErrorCode, number> = {
  ENOENT: 404,
  ESRCH: 404,
  EEXIST: 409,
  EBUSY: 409,
  EPERM: 422,
  ENOMEM: 422,
  EFAULT: 422,
  ENODEV: 422,
  EINVAL: 422,
  ENOSPC: 422,
  ESPIPE: 422,
  ERANGE: 422,
  EOVERFLOW: 422,
  EOPNOTSUPP: 422,
  EPROFILE: 422,
  ECONFIG: 422,
};

function send(reply: FastifyReply, body: ApiError): FastifyReply {
  return reply.status(body.statusCode).send(body);
}

export function registerErrorHandling(app: FastifyInstance, options: { dashboard: () => boolean }): void {
  app.setErrorHandler((error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof EmulatorError) {
      return send(reply, { statusCode: STATUS[error.code], ...error.toJSON() });
    }
    if (error instanceof ServiceError) {
      return send(reply, {
        statusCode: KIND_STATUS[error.kind],
        code: error.code,
        message: error.message,
        ...(error.reason ? { reason: error.reason } : {}),
        ...(error.path ? { path: error.path } : {}),
      });
    }
    const storage = storageFailure(error);
    if (storage) {
      // The environment, not the request: the work it hit ends, the server goes on.
      request.log.warn({ err: error }, 'the database cannot be written');
      return send(reply, {
        statusCode: 503,
        code: storage.code,
        message: `the database cannot be written: ${storage.meaning} (${storage.detail}).`,
        reason: 'storage',
      });
    }
    if (error instanceof HttpError) {
      return send(reply, {
        statusCode: error.statusCode,
        code: error.code,
        message: error.message,
        ...(error.reason ? { reason: error.reason } : {}),
        ...(error.path ? { path: error.path } : {}),
      });
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.validation) {
      const part = fastifyError.validationContext ?? 'request';
      // The part's schema holds what each pattern means and which fields an unknown one may have meant.
      const schema = (request.routeOptions.schema as Record<string, unknown> | undefined)?.[part];
      const { path, detail } = explainSchemaErrors(
        fastifyError.validation as unknown as SchemaError[],
        schema,
      );
      return send(reply, {
        statusCode: 400,
        code: 'EVALIDATION',
        message: sentence(`${part}${path === '/' ? '' : ` ${path}`} ${detail}`),
        path: `${part}${path === '/' ? '' : path}`,
      });
    }
    if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return send(reply, {
        statusCode: 413,
        code: 'ETOOLARGE',
        message: 'the request body is larger than this server accepts.',
      });
    }
    if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return send(reply, {
        statusCode: 415,
        code: 'EMEDIATYPE',
        message: 'send JSON (Content-Type: application/json).',
      });
    }
    if (
      fastifyError.statusCode !== undefined &&
      fastifyError.statusCode >= 400 &&
      fastifyError.statusCode < 500
    ) {
      return send(reply, {
        statusCode: fastifyError.statusCode,
        code: 'EBADREQUEST',
        message: fastifyError.message,
      });
    }
    request.log.error({ err: error }, 'unexpected error');
    return send(reply, {
      statusCode: 500,
      code: 'EINTERNAL',
      message: 'the server failed unexpectedly; the log has the details.',
    });
  });

  app.setNotFoundHandler((request, reply) => {
    // The dashboard's own routes (a reload on /experiments, say) get its page.
    if (request.method === 'GET' && !/^\/(api|healthz)(\/|$|\?)/.test(request.url) && options.dashboard())
      return reply.sendFile('index.html');
    return send(reply, {
      statusCode: 404,
      code: 'ENOROUTE',
      message: `no route ${request.method} ${request.url.split('?')[0]}.`,
    });
  });
}
