/** What the client throws: the API's refusals, and failures to reach it at all. */
import type { ApiError as ErrorBody } from '@iommu-lab/wire';

/**
 * A refusal of the API (a 4xx, or a 5xx for a bug), with the fields of its error body: a stable `code`
 * (the kernel's errno name where the emulator refused, EVALIDATION, EPROFILE, …), an optional narrower
 * `reason`, and `path` for where in the request the problem is.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly code: string;
  readonly reason: string | undefined;
  readonly path: string | undefined;
  readonly profile: string | undefined;
  /** The request that was refused, e.g. "PUT /api/v1/labs/lab1/devices/nic0/features/SVA". */
  readonly request: string;

  constructor(status: number, body: Partial<ErrorBody>, request: string) {
    super(body.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body.code ?? `HTTP${status}`;
    this.reason = body.reason;
    this.path = body.path;
    this.profile = body.profile;
    this.request = request;
  }

  /** The error body as the API sent it. */
  toJSON(): ErrorBody {
    return {
      statusCode: this.status,
      code: this.code,
      message: this.message,
      ...(this.reason === undefined ? {} : { reason: this.reason }),
      ...(this.path === undefined ? {} : { path: this.path }),
      ...(this.profile === undefined ? {} : { profile: this.profile }),
    };
  }
}

/** The server could not be reached (refused, reset, unknown host, timed out, …). */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
  /** The system's error code when there is one: ECONNREFUSED, ENOTFOUND, ECONNRESET, … */
  readonly code: string;

  constructor(url: string, cause: unknown) {
    const code = systemCode(cause);
    super(`cannot reach ${url} (${code ?? innermost(cause)})`, { cause });
    this.code = code ?? 'ECONNECT';
  }
}

/** The message at the bottom of an error's `cause` chain ("bad port", …). */
function innermost(error: unknown): string {
  let current = error as { message?: unknown; cause?: unknown } | undefined;
  while (current && typeof current === 'object' && current.cause) current = current.cause as typeof current;
  return typeof current?.message === 'string' ? current.message : String(current);
}

/** The errno-like code of a network failure, looking through fetch's `cause` chain and AggregateErrors. */
export function systemCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const candidate = current as { code?: unknown; cause?: unknown; errors?: unknown[] };
    if (typeof candidate.code === 'string' && /^E[A-Z]+$/.test(candidate.code)) return candidate.code;
    if (Array.isArray(candidate.errors) && candidate.errors.length > 0) {
      const inner = systemCode(candidate.errors[0]);
      if (inner) return inner;
    }
    current = candidate.cause;
  }
  return undefined;
}

/** The server sent a message its protocol does not allow (code EPROTO, as the errno): a bug to report. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code = 'EPROTO';
}

export const isApiError = (error: unknown): error is ApiError => error instanceof ApiError;
