import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Running, call, startServer } from './testing/harness';

describe('server operations', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it('answers /healthz with the number of labs', async () => {
    const health = await call(server.url, 'GET', '/healthz');
    expect(health).toEqual({ status: 200, body: { status: 'ok', labs: 0 } });
  });

  it('serves the OpenAPI document generated from the wire schemas, and its interactive docs', async () => {
    const doc = await call(server.url, 'GET', '/api/v1/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/labs',
        '/api/v1/labs/{lab}/dma',
        '/api/v1/labs/{lab}/devices/{device}/features/{feature}',
      ]),
    );
    const dma = doc.body.paths['/api/v1/labs/{lab}/dma'].post;
    expect(dma.requestBody.content['application/json'].schema.properties.address.pattern).toBe(
      '^0x[0-9a-fA-F]{1,16}$',
    );
    const ui = await fetch(`${server.url}/api/v1/docs/`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
  });

  it('an unknown route is a 404 with a stable code', async () => {
    const missing = await call(server.url, 'GET', '/api/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('ENOROUTE');
  });

  it('serves the built dashboard at /, its files, and its page for client-side routes; the API keeps its 404s', async () => {
    const webRoot = mkdtempSync(join(tmpdir(), 'iommu-lab-web-'));
    mkdirSync(join(webRoot, 'assets'));
    writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>iommu-lab</title>');
    writeFileSync(join(webRoot, 'assets', 'app.js'), 'console.log(1)');
    const withWeb = await startServer({ webRoot });
    try {
      const root = await fetch(`${withWeb.url}/`);
      expect(root.headers.get('content-type')).toContain('text/html');
      expect(await root.text()).toContain('<title>iommu-lab</title>');
      expect(await (await fetch(`${withWeb.url}/experiments/abc`)).text()).toContain(
        '<title>iommu-lab</title>',
      );
      const script = await fetch(`${withWeb.url}/assets/app.js`);
      expect(script.headers.get('content-type')).toContain('javascript');
      const missing = await call(withWeb.url, 'GET', '/api/v1/nothing-here');
      expect(missing).toMatchObject({ status: 404, body: { code: 'ENOROUTE' } });
    } finally {
      await withWeb.close();
    }
  });
});
