import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, call, startServer } from '../testing/harness';

type Operation = { responses: Record<string, { content?: Record<string, unknown> }>; security?: unknown };
type Document = { paths: Record<string, Record<string, Operation>> };

const operations = (document: Document) =>
  Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
  );

describe('the OpenAPI document lists what each route really answers', () => {
  let open: Running;
  let guarded: Running;
  let document: Document;
  let guardedDocument: Document;
  beforeAll(async () => {
    open = await startServer();
    guarded = await startServer({ token: 'sekret' });
    document = (await call(open.url, 'GET', '/api/v1/openapi.json')).body;
    guardedDocument = (
      await call(guarded.url, 'GET', '/api/v1/openapi.json', undefined, { authorization: 'Bearer sekret' })
    ).body;
  });
  afterAll(async () => {
    await open.close();
    await guarded.close();
  });

  it('the fault log answers JSON, CSV or NDJSON', () => {
    const content = document.paths['/api/v1/runs/{run}/faults']!.get!.responses['200']!.content!;
    expect(Object.keys(content).sort()).toEqual(['application/json', 'application/x-ndjson', 'text/csv']);
  });

  it('every route with a body may answer 413 and 415; routes without one do not list them', () => {
    for (const { path, method, operation } of operations(document)) {
      const codes = Object.keys(operation.responses);
      if (['post', 'put', 'patch', 'delete'].includes(method))
        expect(codes, `${method} ${path}`).toEqual(expect.arrayContaining(['413', '415']));
      else expect(codes, `${method} ${path}`).not.toContain('413');
    }
    expect(Object.keys(document.paths['/api/v1/labs']!.post!.responses)).toContain('415');
  });

  it('routes that need the job queue or write the database may answer 503; nothing else does', () => {
    const with503 = operations(document)
      .filter(({ operation }) => '503' in operation.responses)
      .map(({ path, method }) => `${method} ${path}`)
      .sort();
    expect(with503).toEqual([
      'delete /api/v1/experiments/{experiment}',
      'delete /api/v1/studies/saved/{study}',
      'patch /api/v1/experiments/{experiment}',
      'post /api/v1/experiments',
      'post /api/v1/experiments/import',
      'post /api/v1/experiments/{experiment}/runs',
      'post /api/v1/experiments/{experiment}/sweeps',
      'post /api/v1/labs/{lab}/experiment',
      'post /api/v1/studies/runs',
      'post /api/v1/studies/saved',
      'post /api/v1/studies/saved/import',
      'put /api/v1/studies/saved/{study}',
    ]);
    const sweeps = document.paths['/api/v1/experiments/{experiment}/sweeps']!.post!.responses['503']!;
    expect(JSON.stringify(sweeps)).toContain('EQUEUE');
  });

  it('with a token configured every route lists 401 and the bearer scheme; without one, none does', () => {
    const all = operations(guardedDocument);
    expect(all.length).toBeGreaterThan(30);
    for (const { path, method, operation } of all) {
      expect(Object.keys(operation.responses), `${method} ${path}`).toContain('401');
      expect(operation.security).toEqual([{ token: [] }]);
    }
    expect(operations(document).filter(({ operation }) => '401' in operation.responses)).toEqual([]);
  });
});
