/** `iommu-lab flow` and `iommu-lab flows` as a child process against a real server: where a fault's time went. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, startServer } from '@iommu-lab/api/src/testing/harness';
import { type IommuLabClient, createClient } from './index';
import { spawnCli } from './testing/spawn-cli';

const cli = spawnCli;

const micros = (ns: number) => (ns / 1e3).toFixed(3);

describe('iommu-lab flow / flows', () => {
  let server: Running;
  let client: IommuLabClient;
  let lab: string;
  let flowId: number;

  beforeAll(async () => {
    server = await startServer();
    client = createClient({ baseUrl: server.url });
    lab = (await client.labs.create({ preset: 'sva-pri-vtd' })).id;
    // Four untouched pages: four page requests in one group, each its own flow.
    const dma = await client.dma(lab, {
      device: 'nic0',
      pasid: 1,
      address: '0x7f0000040000',
      length: 16384,
      access: 'write',
    });
    expect(dma.flows).toHaveLength(4);
    flowId = dma.flows[1]!;
  });
  afterAll(() => server.close());

  it('flow <lab> <id>: the header, a row per hop with its start, latency, share and bar, the handler costs, the flows around it', async () => {
    const { flow } = await client.flow(lab, flowId);
    const result = await cli(['--url', server.url, 'flow', lab, String(flowId)]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(
      `flow ${flowId}  device nic0  pasid 1  ${flow.address} w  pri  handler sva  SUCCESS → resumed  ${micros(flow.latencyNs)} µs end to end`,
    );
    let shares = 0;
    for (const hop of flow.hops) {
      const row = lines.find((line) => line.startsWith(`${hop.hop} `));
      expect(row, hop.hop).toBeDefined();
      const [, start, latency, share] = row!.split(/\s+/);
      expect(start).toBe(micros(hop.startNs - flow.startNs));
      expect(latency).toBe(micros(hop.ns));
      shares += Number.parseFloat(share!);
      if (hop.ns / flow.latencyNs >= 0.1) expect(row).toContain('███');
    }
    expect(shares).toBeCloseTo(100, 0);
    const costs = flow.handlerCosts!;
    expect(result.stdout).toContain(
      `handler: fixed ${micros(costs.fixedNs)} µs, handle_mm_fault ${micros(costs.mmFaultNs)} µs`,
    );
    expect(result.stdout).toMatch(/^causes: none$/m);
    expect(result.stdout).toMatch(/^effects: none$/m);
    expect(result.stdout).toMatch(/^replaced by: -$/m);
  });

  it('flow --json prints the raw record with its events, as the API answers it', async () => {
    const result = await cli(['--url', server.url, '--json', 'flow', lab, String(flowId)]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(await client.flow(lab, flowId));
  });

  it('an unknown flow is the API’s refusal (exit 1); an id that is not a number is a usage error (exit 2)', async () => {
    const unknown = await cli(['--url', server.url, 'flow', lab, '999']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: ENOENT: .*999.*\(reason: no-such-flow\)$/m);
    const bad = await cli(['--url', server.url, 'flow', lab, 'one']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error: EUSAGE:');
  });

  it('flows <lab> lists every ended flow; --slowest N the N slowest, slowest first; --device filters', async () => {
    const all = (await client.flows(lab, { limit: 1000 })).flows;
    const listed = await cli(['--url', server.url, '--json', 'flows', lab, '--device', 'nic0']);
    expect(listed.code).toBe(0);
    expect(
      listed.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual(all);
    const none = await cli(['--url', server.url, 'flows', lab, '--device', 'gpu9']);
    expect(none.stdout.trim()).toBe(`lab ${lab} has no ended flows of gpu9`);

    const slowest = await cli(['--url', server.url, 'flows', lab, '--slowest', '2']);
    expect(slowest.code).toBe(0);
    const rows = slowest.stdout.trim().split('\n').slice(2);
    const expected = [...all].sort((a, b) => b.latencyNs - a.latencyNs || a.seq - b.seq).slice(0, 2);
    expect(rows.map((row) => Number(row.split(/\s+/)[0]))).toEqual(expected.map((flow) => flow.flow));
    expect(rows[0]).toContain(micros(expected[0]!.latencyNs));
  });
});
