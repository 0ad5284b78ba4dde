/**
 * Service code (the lab registry, sweeps, the job engines) throws domain errors: a kind and a stable code,
 * no HTTP status. The error plugin alone decides the status of each kind.
 */
import { describe, expect, it } from 'vitest';
import type { ExperimentConfig } from '@iommu-lab/wire';
import { LabRegistry } from '../labs/lab-registry';
import { HttpError, ServiceError } from '../plugins/errors';
import { call, startServer } from '../testing/harness';
import { expandSweep } from './sweep';

function thrown(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('nothing was thrown');
}

describe('services throw domain errors, not HTTP', () => {
  it('the lab registry: not-found, invalid and conflict refusals with their codes', () => {
    const labs = new LabRegistry(1);
    const missing = thrown(() => labs.get('lab9'));
    expect(missing).toBeInstanceOf(ServiceError);
    expect(missing).not.toBeInstanceOf(HttpError);
    expect(missing).toMatchObject({ kind: 'not-found', code: 'ENOENT', reason: 'no-such-lab' });
    expect(thrown(() => labs.create({ preset: 'nothing' }))).toMatchObject({
      kind: 'not-found',
      reason: 'no-such-preset',
    });
    expect(thrown(() => labs.create({ preset: 'sva-pri-vtd', options: {} }))).toMatchObject({
      kind: 'invalid',
      code: 'EINVAL',
    });
    labs.create({});
    expect(thrown(() => labs.create({}))).toMatchObject({ kind: 'conflict', code: 'EBUSY' });
    labs.closeAll();
  });

  it('sweeps: a point outside the config is invalid', () => {
    const config = { version: 1, seed: 1, system: {}, workload: {} } as unknown as ExperimentConfig;
    expect(thrown(() => expandSweep(config, [{ path: '/system/a/b', values: [1] }]))).toMatchObject({
      kind: 'invalid',
      code: 'EINVAL',
      reason: 'no-such-path',
    });
  });

  it('the error plugin gives each kind its status: not-found is 404, with the code and sentence', async () => {
    const server = await startServer();
    try {
      const lab = await call(server.url, 'GET', '/api/v1/labs/lab9');
      expect(lab.status).toBe(404);
      expect(lab.body).toEqual({
        statusCode: 404,
        code: 'ENOENT',
        message: 'no lab "lab9".',
        reason: 'no-such-lab',
      });
    } finally {
      await server.close();
    }
  });
});
