import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, call, startServer } from '../testing/harness';

describe('a body with a prototype-poisoning key is refused by name (EPROTOKEY), not as "not valid JSON"', () => {
  let server: Running;
  const labs = async () => (await call(server.url, 'GET', '/api/v1/labs')).body;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it('__proto__ anywhere in the body, also spelt with escapes: 400 EPROTOKEY naming the key and where it is', async () => {
    for (const [raw, path] of [
      ['{"name":"x","__proto__":{"polluted":true}}', 'body/__proto__'],
      ['{"config":{"iommus":[{"id":"a","__proto__":{}}]}}', 'body/config/iommus/0/__proto__'],
      ['{"\\u005f_proto__":{"polluted":true}}', 'body/__proto__'],
    ] as const) {
      const refused = await call(server.url, 'POST', '/api/v1/labs', raw);
      expect(refused.status, raw).toBe(400);
      expect(refused.body, raw).toMatchObject({ code: 'EPROTOKEY', reason: 'prototype-key', path });
      expect(refused.body.message).toContain('"__proto__"');
      expect(refused.body.message).not.toContain('not valid JSON');
    }
    expect(await labs()).toEqual([]);
  });

  it('constructor.prototype is refused the same way; a plain "constructor" field is left to the schema', async () => {
    const refused = await call(server.url, 'POST', '/api/v1/labs', '{"constructor":{"prototype":{"x":1}}}');
    expect(refused.body).toMatchObject({
      statusCode: 400,
      code: 'EPROTOKEY',
      path: 'body/constructor/prototype',
    });
    expect(refused.body.message).toContain('"constructor.prototype"');
    const unknown = await call(server.url, 'POST', '/api/v1/labs', '{"constructor":{"a":1}}');
    expect(unknown.body.code).toBe('EVALIDATION');
    expect(await labs()).toEqual([]);
  });

  it('JSON that does not parse is 400 EJSON with the parser’s sentence; an empty body is no body', async () => {
    const broken = await call(server.url, 'POST', '/api/v1/labs', '{"name":');
    expect(broken.body).toMatchObject({ statusCode: 400, code: 'EJSON' });
    expect(broken.body.message).toContain('not valid JSON');
    const names = await call(server.url, 'POST', '/api/v1/labs', '{"name":"\\u0041 constructor"}');
    expect(names.body.name).toBe('A constructor');
    const reset = await call(server.url, 'POST', `/api/v1/labs/${names.body.id}/reset`, '');
    expect(reset.status).toBe(200);
  });
});
