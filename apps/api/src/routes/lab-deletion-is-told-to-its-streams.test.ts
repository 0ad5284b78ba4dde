import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, StreamClient, call, startServer, wsUrl } from '../testing/harness';

/** Other tabs on a lab learn that it was deleted (a server that stops is not a deletion). */
describe('a lab deletion is told to its stream sockets', () => {
  let server: Running;
  const open = (target: Running, lab: string) =>
    StreamClient.open(wsUrl(target.url, `/api/v1/labs/${lab}/stream`));
  const newLab = async (target: Running) => {
    const created = await call(target.url, 'POST', '/api/v1/labs', { preset: 'sva-pri-vtd' });
    expect(created.status).toBe(201);
    return created.body.id as string;
  };

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it('DELETE /labs/:lab sends every socket of the lab lab.deleted naming it, then closes them', async () => {
    const lab = await newLab(server);
    const other = await newLab(server);
    const first = await open(server, lab);
    const second = await open(server, lab);
    const bystander = await open(server, other);
    for (const client of [first, second, bystander]) await client.until((messages) => messages.length > 0);
    const closed = new Promise<number>((resolve) => second.socket.once('close', resolve));

    expect((await call(server.url, 'DELETE', `/api/v1/labs/${lab}`)).status).toBe(204);
    for (const client of [first, second])
      await client.until((messages) => messages.some((m) => m.type === 'lab.deleted'));
    expect(await closed).toBe(1001);
    expect(second.messages.slice(-2)).toEqual([
      { type: 'lab.deleted', lab },
      { type: 'closing', reason: 'lab deleted' },
    ]);
    expect(bystander.messages.some((m) => m.type === 'lab.deleted')).toBe(false);
    bystander.close();
  });
});
