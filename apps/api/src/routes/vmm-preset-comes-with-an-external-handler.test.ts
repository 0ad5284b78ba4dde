import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, call, startServer } from '../testing/harness';

/** The preset for answering faults from outside (the dashboard's "map this page, then SUCCESS"). */
describe('the vmm-external preset', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it('is listed with its description and builds a lab whose device hands MAP faults to an external handler', async () => {
    const presets = await call(server.url, 'GET', '/api/v1/presets');
    const preset = (presets.body as { id: string; description: string }[]).find(
      (p) => p.id === 'vmm-external',
    );
    expect(preset?.description).toMatch(/external MAP handler/);
    expect(preset?.description).toMatch(/SUCCESS without a mapping faults again/);

    const created = await call(server.url, 'POST', '/api/v1/labs', { preset: 'vmm-external' });
    expect(created.status).toBe(201);
    const device = await call(server.url, 'GET', `/api/v1/labs/${created.body.id}/devices/vf0`);
    expect(device.body.handlers).toEqual([
      expect.objectContaining({ slot: 'MAP', handler: expect.objectContaining({ type: 'external' }) }),
    ]);
  });
});
