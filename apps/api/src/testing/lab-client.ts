/**
 * Route tests' view of one lab: requests to its routes, status checks that show the body when they fail,
 * and the refusal check every 4xx must pass (its code and sentence, and the lab's whole picture and
 * metrics unchanged by it).
 */
import { expect } from 'vitest';
import { type Response, call } from './harness';

export const API = '/api/v1';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests index freely into response bodies
export type Body = any;

/** Requests to one lab's routes on the server at `base`. */
export function labClient(base: string, lab: string) {
  const prefix = `${API}/labs/${lab}`;
  return {
    id: lab,
    get: (path: string) => call(base, 'GET', `${prefix}${path}`),
    post: (path: string, body?: unknown) => call(base, 'POST', `${prefix}${path}`, body),
    put: (path: string) => call(base, 'PUT', `${prefix}${path}`),
    del: (path: string) => call(base, 'DELETE', `${prefix}${path}`),
  };
}
export type Lab = ReturnType<typeof labClient>;

/** The body of a response that must have this status (the body is shown when it has not). */
export function expectStatus(response: Response<Body>, status: number): Body {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  return response.body;
}

/** Everything a refusal must leave alone: the lab's whole picture and its metrics. */
export async function picture(lab: Lab) {
  const [detail, metrics] = await Promise.all([lab.get(''), lab.get('/metrics')]);
  return { detail: detail.body as Body, metrics: metrics.body as Body };
}

/** Checks the refusal's status and body, and that the lab is unchanged by it; returns the body. */
export async function expectRefused(
  lab: Lab,
  request: () => Promise<Response<Body>>,
  expected: { status: number; code: string; reason?: string; profile?: string },
): Promise<Body> {
  const before = await picture(lab);
  const response = await request();
  expect(response.status, JSON.stringify(response.body)).toBe(expected.status);
  expect(response.body).toMatchObject({
    statusCode: expected.status,
    code: expected.code,
    message: expect.any(String),
    ...(expected.reason === undefined ? {} : { reason: expected.reason }),
    ...(expected.profile === undefined ? {} : { profile: expected.profile }),
  });
  expect(await picture(lab)).toEqual(before);
  return response.body;
}
