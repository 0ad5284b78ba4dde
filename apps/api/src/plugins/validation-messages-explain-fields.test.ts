/**
 * Validation messages are for people: a field with a pattern says what the field is ("an address is hex
 * with 0x, e.g. 0x7f0000001000"), never the regular expression, and an unknown field names the field that
 * was meant. One formatter (plugins/errors.ts) words every route's refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, call, startServer } from '../testing/harness';

let server: Running;
const api = (method: string, path: string, body?: unknown) =>
  call(server.url, method, `/api/v1${path}`, body);

/** Anything that reads as a regular expression: anchors, character classes, lookaheads. */
const REGEX = /[\^$]|\[[^\]]*-[^\]]*\]|\(\?|\\\d|\{\d+,\d*\}/;

beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

async function lab(): Promise<string> {
  const created = await api('POST', '/labs', { preset: 'passthrough-pinned' });
  expect(created.status).toBe(201);
  return created.body.id as string;
}

describe('validation messages name no pattern and suggest the field meant', () => {
  it('a malformed address in a query says what an address looks like', async () => {
    const id = await lab();
    const domain = (await api('GET', `/labs/${id}`)).body.system.domains[0].id as string;
    const answer = await api('GET', `/labs/${id}/domains/${domain}/walk?iova=7f0000001000`);
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('EVALIDATION');
    expect(answer.body.path).toBe('querystring/iova');
    expect(answer.body.message).toBe(
      'querystring /iova is not valid: an address is hex with 0x, e.g. 0x7f0000001000.',
    );
  });

  it('a malformed name in a body says what a name is made of', async () => {
    const answer = await api('POST', '/labs', {
      name: 'x',
      config: { version: 1, iommus: [{ id: '0bad', family: 'vtd' }] },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.message).toContain('a name starts with a letter');
    expect(answer.body.message).not.toMatch(REGEX);
  });

  it('a malformed prot in a body says which letters it takes', async () => {
    const id = await lab();
    const domain = (await api('GET', `/labs/${id}`)).body.system.domains.find(
      (d: { type: string }) => d.type === 'dma',
    ).id as string;
    const answer = await api('POST', `/labs/${id}/domains/${domain}/mappings`, {
      iova: '0x100000',
      size: 4096,
      prot: 'rr',
    });
    expect(answer.status).toBe(400);
    expect(answer.body.message).toContain('permissions are the letters r, w');
    expect(answer.body.message).not.toMatch(REGEX);
  });

  it('an unknown field names the field that was meant', async () => {
    const before = (await api('GET', '/labs')).body;
    const answer = await api('POST', '/labs', { presetName: 'passthrough-pinned' });
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('EVALIDATION');
    expect(answer.body.message).toBe('body has an unknown field presetName: did you mean preset?');
    expect((await api('GET', '/labs')).body).toEqual(before);
  });

  it('an unknown field nothing resembles lists the fields there are', async () => {
    const answer = await api('POST', '/labs', { zzz: 1 });
    expect(answer.status).toBe(400);
    expect(answer.body.message).toMatch(/^body has an unknown field zzz \(its fields: .*preset.*\)\.$/);
  });

  it('a suggestion ends the sentence with its question, also where a route words the problem itself', async () => {
    const id = await lab();
    const saved = await api('POST', `/labs/${id}/experiment`, { name: 'asked' });
    expect(saved.status).toBe(201);
    const file = (await api('GET', `/experiments/${saved.body.id as string}/export`)).body;
    const before = (await api('GET', '/experiments')).body;
    const answer = await api('POST', '/experiments/import', { ...file, exportedAtt: 'yesterday' });
    // An experiment file is refused as unprocessable (422), worded by the import route.
    expect(answer.status).toBe(422);
    expect(answer.body.message).toMatch(/unknown field exportedAtt: did you mean exportedAt\?$/);
    expect((await api('GET', '/experiments')).body).toEqual(before);
  });
});
