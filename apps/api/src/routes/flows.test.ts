/**
 * A live lab's fault flows over REST against a real server: the list (paged like the fault history,
 * filtered), one flow's anatomy with its hops, its events, causes, effects and the flow that replaced it,
 * the DMA result naming its flows, and the refusals (404 with a reason, 400 for bad filters).
 */
import { PRESETS } from '@iommu-lab/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STREAM_LIMITS } from '../stream/stream-hub';
import { type Running, call, startServer } from '../testing/harness';
import { API, type Body, type Lab, expectRefused, expectStatus, labClient } from '../testing/lab-client';

const PAGE = 4096;
/** The SVA process's VMA in the SVA presets (64 MiB, rw), bound at PASID 1. */
const USER_BASE = 0x7f0000000000n;
const hex = (value: bigint) => `0x${value.toString(16)}`;

let server: Running;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

async function createLab(body: unknown, base = server.url): Promise<Lab> {
  return labClient(base, expectStatus(await call(base, 'POST', `${API}/labs`, body), 201).id);
}

/** A preset's workload with `count` transactions per stream, run to its end on the paused lab. */
async function runPresetWorkload(lab: Lab, preset: string, count: number): Promise<void> {
  const workload = structuredClone(PRESETS.find((p) => p.id === preset)!.workload!);
  for (const stream of workload.streams) stream.count = count;
  expect(expectStatus(await lab.post('/workloads', { workload }), 200).finished).toBe(true);
}

/** Every flow of the lab, page by page. */
async function allFlows(lab: Lab, query = '', limit = 7): Promise<Body[]> {
  const flows: Body[] = [];
  for (let after = -1; ;) {
    const page = expectStatus(await lab.get(`/flows?after=${after}&limit=${limit}${query}`), 200);
    if (page.flows.length === 0) return flows;
    flows.push(...page.flows);
    after = page.next;
  }
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe("a lab's ended flows", () => {
  it('the list has one record per flow.ended event, oldest first, paged by seq without gaps or repeats', async () => {
    const lab = await createLab({ preset: 'sva-pri-vtd' });
    await runPresetWorkload(lab, 'sva-pri-vtd', 12);
    const ended = expectStatus(await lab.get('/events?kinds=flow.ended&limit=1000'), 200).events;
    expect(ended.length).toBeGreaterThan(12);
    const flows = await allFlows(lab);
    expect(flows.map((f) => f.flow)).toEqual(ended.map((e: Body) => e.flow));
    expect(flows.map((f) => f.seq)).toEqual(ended.map((e: Body) => e.seq));
    for (const flow of flows) {
      expect(flow).toMatchObject({
        mechanism: 'pri',
        device: 'nic0',
        pasid: 1,
        code: 'SUCCESS',
        outcome: 'resumed',
      });
      expect(sum(flow.hops.map((hop: Body) => hop.ns))).toBe(flow.latencyNs);
    }
    const first = expectStatus(await lab.get('/flows?limit=1'), 200);
    expect(first).toEqual({ flows: [flows[0]], next: flows[0].seq, oldest: flows[0].seq });
  });

  it('filters: each one given must match (device, pasid, mechanism, outcome, code, stage, category, minLatencyNs)', async () => {
    const lab = await createLab({ preset: 'sva-pri-vtd' });
    await runPresetWorkload(lab, 'sva-pri-vtd', 6);
    // Outside the process's VMA: the SVA handler answers INVALID and the DMA fails.
    const failed = expectStatus(
      await lab.post('/dma', { device: 'nic0', pasid: 1, address: '0x1000', length: 64, access: 'read' }),
      200,
    );
    expect(failed.state).toBe('faulted');
    const flows = await allFlows(lab);
    const invalid = flows.filter((f) => f.code === 'INVALID');
    expect(invalid.map((f) => f.flow)).toEqual(failed.flows);
    expect(invalid[0]).toMatchObject({ outcome: 'failed', transaction: failed.transaction });

    const only = async (query: string) => (await allFlows(lab, query, 1000)).map((f) => f.flow);
    expect(await only('&code=INVALID')).toEqual(failed.flows);
    expect(await only('&outcome=failed')).toEqual(failed.flows);
    expect(await only('&outcome=resumed')).toEqual(
      flows.filter((f) => f.outcome === 'resumed').map((f) => f.flow),
    );
    expect(await only('&device=nic0&pasid=1&mechanism=pri&stage=1&category=BIND')).toEqual(
      flows.map((f) => f.flow),
    );
    expect(await only('&mechanism=stall')).toEqual([]);
    expect(await only('&device=gpu9')).toEqual([]);
    expect(await only('&pasid=2')).toEqual([]);
    expect(await only('&stage=2')).toEqual([]);
    expect(await only('&category=MAP')).toEqual([]);
    const latencies = flows.map((f) => f.latencyNs).sort((a, b) => a - b);
    const median = latencies[Math.floor(latencies.length / 2)]!;
    const slow = await only(`&minLatencyNs=${median}`);
    expect(slow).toEqual(flows.filter((f) => f.latencyNs >= median).map((f) => f.flow));
    expect(slow.length).toBeLessThan(flows.length);

    const slowest = expectStatus(await lab.get('/flows?slowest=3&mechanism=pri'), 200);
    expect(slowest.next).toBe(-1);
    expect(slowest.flows.map((f: Body) => f.latencyNs)).toEqual(latencies.slice(-3).reverse());
  });

  it('a reset forgets the flows with the rest of the history', async () => {
    const lab = await createLab({ preset: 'sva-pri-vtd' });
    await runPresetWorkload(lab, 'sva-pri-vtd', 2);
    expect((await allFlows(lab)).length).toBeGreaterThan(0);
    expectStatus(await lab.post('/reset'), 200);
    expect(expectStatus(await lab.get('/flows'), 200)).toEqual({ flows: [], next: -1, oldest: -1 });
    await expectRefused(lab, () => lab.get('/flows/1'), {
      status: 404,
      code: 'ENOENT',
      reason: 'no-such-flow',
    });
  });
});

describe('one flow: where its time went', () => {
  it('its hops follow one another and sum to its latency; its events all name it (or are its DMA’s while it held it), in order', async () => {
    const lab = await createLab({ preset: 'sva-pri-vtd' });
    const address = hex(USER_BASE + 0x9000n);
    const dma = expectStatus(
      await lab.post('/dma', { device: 'nic0', pasid: 1, address, length: 256, access: 'write' }),
      200,
    );
    expect(dma.state).toBe('completed');
    expect(dma.flows).toHaveLength(1);
    const story = expectStatus(await lab.get(`/flows/${dma.flows[0]}`), 200);
    const { flow } = story;
    expect(flow).toMatchObject({
      flow: dma.flows[0],
      transaction: dma.transaction,
      mechanism: 'pri',
      device: 'nic0',
      pasid: 1,
      address,
      access: 'w',
      handler: 'sva',
      code: 'SUCCESS',
      outcome: 'resumed',
    });
    expect(flow.hops.map((hop: Body) => hop.hop)).toEqual([
      'toIommu',
      'queueWait',
      'dispatch',
      'handler',
      'responseWrite',
      'toDevice',
      'retranslate',
    ]);
    let at = flow.startNs;
    for (const hop of flow.hops) {
      expect(hop.startNs).toBe(at);
      at += hop.ns;
    }
    expect(at).toBe(flow.endNs);
    expect(flow.endNs - flow.startNs).toBe(flow.latencyNs);
    expect(sum(Object.values(flow.handlerCosts) as number[])).toBe(
      flow.hops.find((h: Body) => h.hop === 'handler').ns,
    );

    const names = (event: Body) =>
      event.flow === flow.flow || event.by === flow.flow || (event.flows ?? []).includes(flow.flow);
    for (const event of story.events)
      expect(
        names(event) ||
          (event.kind.startsWith('dma.') &&
            event.transaction === flow.transaction &&
            event.timeNs >= flow.startNs &&
            event.timeNs <= flow.endNs),
        JSON.stringify(event),
      ).toBe(true);
    const seqs = story.events.map((event: Body) => event.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(story.events.map((event: Body) => event.kind)).toEqual(
      expect.arrayContaining([
        'pri.page-request',
        'fault.group',
        'process.page-fault',
        'fault.response',
        'pri.response',
        'flow.ended',
        'dma.retried',
        'dma.completed',
      ]),
    );
    // The history holds exactly these: every event that names the flow, none left out.
    const history = expectStatus(await lab.get('/events?limit=1000'), 200).events;
    expect(story.events.filter(names)).toEqual(history.filter(names));
    expect(story).toMatchObject({ causes: [], effects: [], replacedBy: null, oldest: history[0].seq });
  });

  it('a retry that faults again: the new flow names the old one as its cause, the old one names it as an effect', async () => {
    const lab = await createLab({
      config: {
        version: 1,
        // The proposal reports a page request without PASID to the outside handler; v5.13's VT-d did not.
        iommus: [{ id: 'vtd0', family: 'vtd', profile: 'proposal' }],
        devices: [{ id: 'nic0', iommu: 'vtd0', ats: true, pri: { capacity: 16 } }],
        domains: [{ id: 'd', iommu: 'vtd0', type: 'dma' }],
        features: [{ device: 'nic0', feature: 'IOPF' }],
        attachments: [{ device: 'nic0', domain: 'd' }],
      },
    });
    expectStatus(await lab.post('/devices/nic0/handlers', { type: 'external', timeoutNs: 1e12 }), 201);
    const workload = {
      streams: [{ device: 'nic0', pattern: 'sequential', base: '0x8000', workingSet: PAGE, count: 1 }],
    };
    expectStatus(await lab.post('/workloads', { workload, wait: false }), 202);
    const answer = async (code: string) => {
      for (let steps = 0; ; steps++) {
        const pending = expectStatus(await lab.get('/faults/pending'), 200);
        if (pending.length > 0) {
          expectStatus(await lab.post(`/faults/${pending[0].cookie}/response`, { code }), 200);
          return;
        }
        expect(steps).toBeLessThan(1000);
        expectStatus(await lab.post('/clock', { action: 'step' }), 200);
      }
    };
    await answer('SUCCESS'); // nothing was mapped: the retried translation faults again
    await answer('INVALID');
    expectStatus(await lab.post('/clock', { action: 'step', steps: 10_000 }), 200);
    const flows = await allFlows(lab);
    expect(flows.map((f) => [f.outcome, f.code])).toEqual([
      ['refaulted', 'SUCCESS'],
      ['failed', 'INVALID'],
    ]);
    const [first, second] = flows;
    expect(second.causes).toEqual([first.flow]);
    const firstStory = expectStatus(await lab.get(`/flows/${first.flow}`), 200);
    expect(firstStory.effects).toEqual([second]);
    expect(firstStory.flow.hops.map((h: Body) => h.hop)).toContain('clientWait');
    const secondStory = expectStatus(await lab.get(`/flows/${second.flow}`), 200);
    expect(secondStory.causes).toEqual([first]);
    expect(secondStory.effects).toEqual([]);
  });

  it('a page reclaimed and faulted in again: the later flow replaces the earlier, which names it as replacedBy', async () => {
    const lab = await createLab({ preset: 'sva-pri-vtd' });
    const address = hex(USER_BASE + 0x20000n);
    const dma = { device: 'nic0', pasid: 1, address, length: 64, access: 'read' };
    const before = expectStatus(await lab.post('/dma', dma), 200);
    expectStatus(await lab.post('/processes/app/reclaim', { address, size: PAGE }), 200);
    const after = expectStatus(await lab.post('/dma', dma), 200);
    expect(before.flows).toHaveLength(1);
    expect(after.flows).toHaveLength(1);
    const later = expectStatus(await lab.get(`/flows/${after.flows[0]}`), 200);
    expect(later.flow.replaces).toEqual({ flow: before.flows[0], because: 'reclaimed' });
    const earlier = expectStatus(await lab.get(`/flows/${before.flows[0]}`), 200);
    expect(earlier.replacedBy).toEqual(later.flow);
  });
});

describe('refusals', () => {
  it('an unknown flow is 404 ENOENT no-such-flow; bad ids and filters are 400; none changes anything', async () => {
    const lab = await createLab({ preset: 'sva-pri-vtd' });
    await runPresetWorkload(lab, 'sva-pri-vtd', 1);
    const refused = await expectRefused(lab, () => lab.get('/flows/999'), {
      status: 404,
      code: 'ENOENT',
      reason: 'no-such-flow',
    });
    expect(refused.message).toContain('999');
    await expectRefused(lab, () => call(server.url, 'GET', `${API}/labs/nolab/flows`), {
      status: 404,
      code: 'ENOENT',
      reason: 'no-such-lab',
    });
    for (const path of [
      '/flows/0',
      '/flows/abc',
      '/flows?mechanism=pigeon',
      '/flows?outcome=maybe',
      '/flows?minLatencyNs=-1',
      '/flows?limit=0',
      '/flows?limit=1001',
      '/flows?slowest=0',
      '/flows?stage=3',
      '/flows?category=SOMETIMES',
      '/flows?code=a%20b',
      '/flows?colour=red',
    ])
      await expectRefused(lab, () => lab.get(path), { status: 400, code: 'EVALIDATION' });
  });

  it('a flow that ended but fell out of the lab’s ring is 404 flow-forgotten', async () => {
    const small = await startServer({
      labLimits: { historyEvents: 10_000, flows: 4, stream: DEFAULT_STREAM_LIMITS },
    });
    try {
      const lab = await createLab({ preset: 'sva-pri-vtd' }, small.url);
      await runPresetWorkload(lab, 'sva-pri-vtd', 4);
      const kept = await allFlows(lab);
      expect(kept).toHaveLength(4);
      const ended = expectStatus(await lab.get('/events?kinds=flow.ended&limit=1000'), 200).events;
      expect(ended.length).toBeGreaterThan(4);
      const forgotten = ended[0].flow;
      expect(kept.map((f) => f.flow)).not.toContain(forgotten);
      const body = await expectRefused(lab, () => lab.get(`/flows/${forgotten}`), {
        status: 404,
        code: 'ENOENT',
        reason: 'flow-forgotten',
      });
      expect(body.message).toContain('last 4');
      await expectRefused(lab, () => lab.get('/flows/100000'), {
        status: 404,
        code: 'ENOENT',
        reason: 'no-such-flow',
      });
    } finally {
      await small.close();
    }
  });
});

describe('the DMA result', () => {
  it('names the flows the transaction went through, each one of its own', async () => {
    const lab = await createLab({ preset: 'sva-pri-vtd' });
    const address = hex(USER_BASE + 0x40000n);
    // Four pages, none resident: four page requests in one group.
    const result = expectStatus(
      await lab.post('/dma', { device: 'nic0', pasid: 1, address, length: 4 * PAGE, access: 'read' }),
      200,
    );
    expect(result.state).toBe('completed');
    expect(result.flows).toHaveLength(4);
    for (const id of result.flows) {
      const { flow } = expectStatus(await lab.get(`/flows/${id}`), 200);
      expect(flow.transaction).toBe(result.transaction);
    }
    // A hit faults nothing, and says so.
    const again = expectStatus(
      await lab.post('/dma', { device: 'nic0', pasid: 1, address, length: 64, access: 'read' }),
      200,
    );
    expect(again.flows).toEqual([]);
  });
});

describe('the OpenAPI document', () => {
  it('lists both flow routes under the flows tag, with their query, answers and 404', async () => {
    const document = expectStatus(await call(server.url, 'GET', `${API}/openapi.json`), 200);
    const list = document.paths['/api/v1/labs/{lab}/flows'].get;
    const one = document.paths['/api/v1/labs/{lab}/flows/{flow}'].get;
    expect(list.tags).toEqual(['flows']);
    expect(one.tags).toEqual(['flows']);
    expect(list.parameters.map((p: Body) => p.name)).toEqual(
      expect.arrayContaining(['after', 'limit', 'device', 'mechanism', 'outcome', 'minLatencyNs', 'slowest']),
    );
    expect(Object.keys(one.responses)).toEqual(expect.arrayContaining(['200', '400', '404']));
    expect(JSON.stringify(one.responses['200'])).toContain('replacedBy');
  });
});
