/**
 * The lab stream over a real websocket: `flows: true` gives one message per ended flow (its flow.ended
 * record) and nothing else, `flows: false` everything but those, and `flowIds` one flow's events as they
 * happen, its record included; each client gets its own filter's events, whatever the others chose.
 */
import { PRESETS } from '@iommu-lab/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, StreamClient, call, startServer, wsUrl } from '../testing/harness';

type Event = Record<string, unknown> & { kind: string; seq: number };

const namesFlow = (event: Event, flow: number) =>
  event.flow === flow || event.by === flow || ((event.flows as number[] | undefined) ?? []).includes(flow);

describe('the lab stream subscribes to fault flows', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  const subscribed = async (lab: string, filter: object) => {
    const client = await StreamClient.open(wsUrl(server.url, `/api/v1/labs/${lab}/stream`));
    client.send({ type: 'subscribe', filter });
    client.send({ type: 'ping' });
    await client.until((messages) => messages.some((m) => m.type === 'pong' || m.type === 'error'));
    return client;
  };

  it('flows: true is one message per ended flow; false leaves them out; flowIds follows one flow', async () => {
    const lab = (await call(server.url, 'POST', '/api/v1/labs', { preset: 'sva-pri-vtd' })).body.id as string;
    const all = await subscribed(lab, {});
    const flows = await subscribed(lab, { flows: true });
    const noFlows = await subscribed(lab, { flows: false });
    // Ids are given in the order faults happen: flow 3 is the third fault of the workload.
    const third = await subscribed(lab, { flowIds: [3] });
    for (const client of [all, flows, noFlows, third])
      expect(client.messages.some((m) => m.type === 'error')).toBe(false);

    const workload = structuredClone(PRESETS.find((p) => p.id === 'sva-pri-vtd')!.workload!);
    for (const stream of workload.streams) stream.count = 6;
    const ran = await call(server.url, 'POST', `/api/v1/labs/${lab}/workloads`, { workload });
    expect(ran.status).toBe(200);
    const kept = (await call(server.url, 'GET', `/api/v1/labs/${lab}/flows?limit=1000`)).body.flows as {
      flow: number;
    }[];
    expect(kept.length).toBeGreaterThan(6);
    const history = (await call(server.url, 'GET', `/api/v1/labs/${lab}/events?limit=1000`)).body
      .events as Event[];
    const last = history.at(-1)!.seq;

    await all.until(() => all.events().some((event) => event.seq === last));
    const everything = all.events() as Event[];
    expect(everything).toEqual(history);
    const ended = everything.filter((event) => event.kind === 'flow.ended');
    const ofThird = everything.filter((event) => namesFlow(event, 3));

    await flows.until(() => flows.events().length >= ended.length);
    await noFlows.until(() => noFlows.events().length >= everything.length - ended.length);
    await third.until(() => third.events().some((event) => event.kind === 'flow.ended'));
    // One more round trip each: anything still on its way would have arrived before the pong.
    for (const client of [flows, noFlows, third]) {
      const pongs = client.messages.filter((m) => m.type === 'pong').length;
      client.send({ type: 'ping' });
      await client.until((messages) => messages.filter((m) => m.type === 'pong').length > pongs);
    }

    expect(flows.events()).toEqual(ended);
    expect(new Set(ended.map((event) => event.flow)).size).toBe(kept.length);
    expect(noFlows.events()).toEqual(everything.filter((event) => event.kind !== 'flow.ended'));
    expect(third.events()).toEqual(ofThird);
    expect(ofThird.map((event) => event.kind)).toEqual(
      expect.arrayContaining(['pri.page-request', 'fault.group', 'fault.response', 'flow.ended']),
    );
    const story = (await call(server.url, 'GET', `/api/v1/labs/${lab}/flows/3`)).body;
    expect(third.events()).toEqual(story.events.filter((event: Event) => namesFlow(event, 3)));
    for (const client of [all, flows, noFlows, third]) client.close();
  });

  it('a flow filter the schema refuses is an error message, and the subscription stays as it was', async () => {
    const lab = (await call(server.url, 'POST', '/api/v1/labs', { preset: 'sva-pri-vtd' })).body.id as string;
    for (const filter of [{ flows: 'yes' }, { flowIds: [0] }, { flowIds: ['one'] }]) {
      const client = await subscribed(lab, filter);
      expect(client.messages.find((m) => m.type === 'error')).toMatchObject({ code: 'EVALIDATION' });
      client.close();
    }
  });
});
