/** The CLI end to end: `node bin/iommu-lab.mjs …` as a child process against a real server. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, freePort, startServer } from '@iommu-lab/api/src/testing/harness';
import { overflowStormExperiment } from '@iommu-lab/api/src/testing/overflow-storm';
import { type ExperimentConfig, type IommuLabClient, type Preset, createClient } from './index';

const BIN = new URL('../bin/iommu-lab.mjs', import.meta.url).pathname;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A CLI process: its output so far, and a way to wait for some of it. */
class Cli {
  stdout = '';
  stderr = '';
  readonly exited: Promise<Result>;
  private readonly child: ChildProcess;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, IOMMU_LAB_URL: '', IOMMU_LAB_TOKEN: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString('utf8')));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code) => resolve({ code, stdout: this.stdout, stderr: this.stderr })),
    );
  }

  async until(done: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; stdout: ${this.stdout}; stderr: ${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  interrupt(): void {
    this.child.kill('SIGINT');
  }
}

const cli = (args: string[], env?: Record<string, string>) => new Cli(args, env).exited;

describe('the iommu-lab CLI', () => {
  let server: Running;
  let client: IommuLabClient;
  let presets: Preset[];
  const dir = mkdtempSync(join(tmpdir(), 'iommu-lab-cli-'));
  const configOf = (id: string, count: number, seed = 1): ExperimentConfig => {
    const preset = presets.find((p) => p.id === id)!;
    const workload = structuredClone(preset.workload) as ExperimentConfig['workload'];
    for (const stream of workload.streams) stream.count = count;
    return { version: 1, system: preset.config as ExperimentConfig['system'], workload, seed };
  };
  const file = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };

  beforeAll(async () => {
    server = await startServer();
    client = createClient({ baseUrl: server.url });
    presets = await client.presets();
  });
  afterAll(() => server.close());

  it('run <exported file> --json: imports it, runs it to the end, prints the runs with their metrics', async () => {
    const experiment = await client.experiments.create({ name: 'sva', config: configOf('sva-pri-vtd', 200) });
    const exported = file('sva.iommu-lab.json', await client.experiments.export(experiment.id));
    const result = await cli(['--url', server.url, 'run', exported, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as {
      experiment: { id: string; name: string };
      runs: {
        id: string;
        status: string;
        seed: number;
        faultRecords: number;
        summary: Record<string, number>;
        metrics: { system: { transactions: { completed: number } } };
      }[];
    };
    expect(output.experiment.name).toBe('sva');
    expect(output.experiment.id).not.toBe(experiment.id);
    expect(output.runs).toHaveLength(1);
    const [run] = output.runs;
    expect(run).toMatchObject({ status: 'done', seed: 1 });
    expect(run!.metrics.system.transactions.completed).toBe(200);
    expect(run!.summary).toMatchObject({ transactionsCompleted: 200, transactionsFaulted: 0 });
    expect(run!.summary.pageRequests).toBeGreaterThan(0);
    expect(run!.summary.faultRecords).toBe(run!.summary.pageRequests);
    for (const key of [
      'faultLatencyP50Ns',
      'faultLatencyP90Ns',
      'faultLatencyP99Ns',
      'dmaLatencyP50Ns',
      'dmaLatencyP99Ns',
    ])
      expect(run!.summary[key]).toBeGreaterThan(0);
    expect((await client.runs.get(run!.id)).status).toBe('done');
  });

  it('run <body> --runs 2 --seed 5 prints a metrics table; compare prints deltas, ratios and the config diff', async () => {
    const body = file('map.json', { name: 'on demand', config: configOf('passthrough-map', 300) });
    const result = await cli(['--url', server.url, 'run', body, '--runs', '2', '--seed', '5']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('transactions completed');
    expect(result.stdout).toContain('fault latency p99 (ns)');
    expect(result.stdout).toContain('dma latency p50 (ns)');
    expect(result.stdout).toContain('fault records');
    expect(result.stdout).toMatch(/seed 5\s+seed 6/);
    const ids = [...result.stdout.matchAll(/^run (\S+)/gm)].map((match) => match[1]!);
    expect(ids).toHaveLength(2);
    expect((await client.runs.get(ids[1]!)).seed).toBe(6);

    const compared = await cli(['--url', server.url, 'compare', ...ids]);
    expect(compared.code).toBe(0);
    expect(compared.stdout).toMatch(/transactions completed\s+300\s+300\s+0\s+×1\.000/);
    expect(compared.stdout).toMatch(/\/seed\s+5\s+6/);
    // Where the fault time went, hop by hop: the dispatch hop is the latency model's 2 µs in both runs.
    expect(compared.stdout).toContain('where the fault time went');
    expect(compared.stdout).toMatch(/dispatch\s+2\s+[\d.]+%\s+2\s+[\d.]+%/);
    const json = await cli(['--url', server.url, '--json', 'compare', ...ids]);
    expect(JSON.parse(json.stdout)).toMatchObject({ configDiff: [{ path: '/seed', values: [5, 6] }] });
  });

  it('run <storm>: the run ended by a livelock is failed, its reason beside it and on stderr, exit 1', async () => {
    const storm = file('storm.json', { name: 'storm', config: overflowStormExperiment() });
    const result = await cli(['--url', server.url, 'run', storm]);
    expect(result.code).toBe(1);
    const reason =
      /^run (\S+) {2}seed 1 {2}failed: (livelock: page request queue overflow storm on vtd0 \(PRQ\): .*)$/m.exec(
        result.stdout,
      );
    expect(reason, result.stdout).not.toBeNull();
    const [, id, error] = reason!;
    expect(error).toMatch(/lost per useful fault, past the bound of 256 \(system option livelock\.bound\)/);
    expect(result.stderr).toContain(`error: ERUN: run ${id} failed: ${error}`);
    expect((await client.runs.get(id!)).error).toBe(error);
    const json = await cli(['--url', server.url, '--json', 'run', storm]);
    expect(json.code).toBe(1);
    const [run] = (JSON.parse(json.stdout) as { runs: { status: string; error: string }[] }).runs;
    expect(run).toMatchObject({ status: 'failed', error: expect.stringMatching(/^livelock: /) });
  });

  it('faults <run> --format csv|jsonl downloads the fault log, to a file or stdout', async () => {
    const experiment = await client.experiments.create({ name: 'log', config: configOf('sva-pri-vtd', 100) });
    const run = await client.runs.waitFor(await client.runs.start(experiment.id));
    const out = join(dir, 'faults.csv');
    const csv = await cli(['--url', server.url, 'faults', run.id, '--format', 'csv', '--out', out]);
    expect(csv.code).toBe(0);
    expect(csv.stderr).toContain(`wrote ${run.faultRecords} fault records`);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    // One column per field of the flow record, a hop a column.
    expect(lines[0]).toMatch(
      /^seq,timeNs,device,pasid,address,access,category,stage,kind,code,latencyNs,flow,/,
    );
    expect(lines[0]).toContain(',toIommuNs,queueWaitNs,');
    expect(lines).toHaveLength(run.faultRecords + 1);
    const jsonl = await cli(['--url', server.url, 'faults', run.id, '--format', 'jsonl']);
    expect(jsonl.code).toBe(0);
    const records = jsonl.stdout.trim().split('\n');
    expect(records).toHaveLength(run.faultRecords);
    expect(JSON.parse(records[0]!)).toMatchObject({ seq: 0, kind: 'page-request', code: 'SUCCESS' });
  });

  it('tail <lab> prints events as they stream (JSON lines with --json) and stops on SIGINT', async () => {
    const lab = (await client.labs.create({ preset: 'sva-pri-vtd' })).id;
    const tail = new Cli([
      '--url',
      server.url,
      '--json',
      'tail',
      lab,
      '--kind',
      'fault.group',
      'dma.completed',
    ]);
    await tail.until(() => tail.stderr.includes('tailing'), 'the subscription');
    await client.dma(lab, {
      device: 'nic0',
      pasid: 1,
      address: '0x7f0000003000',
      length: 64,
      access: 'write',
    });
    await tail.until(() => tail.stdout.includes('dma.completed'), 'the events');
    tail.interrupt();
    const result = await tail.exited;
    expect(result.code).toBe(0);
    const events = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string; device: string });
    expect(events.map((event) => event.kind)).toEqual(['fault.group', 'dma.completed']);
    expect(events[0]).toMatchObject({ device: 'nic0', category: 'BIND' });

    // Plain text: one line per event.
    const text = new Cli(['--url', server.url, 'tail', lab, '--device', 'nic0', '--category', 'BIND']);
    await text.until(() => text.stderr.includes('tailing'), 'the subscription');
    await client.dma(lab, {
      device: 'nic0',
      pasid: 1,
      address: '0x7f0000009000',
      length: 64,
      access: 'read',
    });
    await text.until(() => text.stdout.includes('fault.group'), 'the events');
    text.interrupt();
    const plain = await text.exited;
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^\s*\d+\s+\S+s\s+fault\.group\s+.*device=nic0/m);
  });

  it('handle <lab> --respond INVALID answers each pending group and prints the answer', async () => {
    const lab = (
      await client.labs.create({
        config: {
          version: 1,
          iommus: [{ id: 'vtd0', family: 'vtd', profile: 'proposal' }],
          devices: [{ id: 'vf0', iommu: 'vtd0', ats: true, pri: { capacity: 16 } }],
          domains: [{ id: 'vm', iommu: 'vtd0', type: 'dma' }],
          features: [{ device: 'vf0', feature: 'IOPF' }],
          handlers: [{ device: 'vf0', handler: { type: 'external', categories: ['MAP'] } }],
          attachments: [{ device: 'vf0', domain: 'vm' }],
        },
      })
    ).id;
    const handle = new Cli([
      '--url',
      server.url,
      '--json',
      'handle',
      lab,
      '--respond',
      'INVALID',
      '--category',
      'MAP',
    ]);
    await handle.until(() => handle.stderr.includes('handling'), 'the subscription');
    await client.labs.clock(lab, { action: 'run', speed: 0.001 });
    const dma = await client.dma(lab, { device: 'vf0', address: '0x42000', length: 64, access: 'read' });
    expect(dma.state).toBe('faulted');
    expect(dma.events).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'fault.response', code: 'INVALID' })]),
    );
    await handle.until(() => handle.stdout.includes('"ok":true'), 'the answer');
    handle.interrupt();
    const result = await handle.exited;
    await client.labs.clock(lab, { action: 'pause' });
    expect(result.code).toBe(0);
    const answer = JSON.parse(result.stdout.trim().split('\n')[0]!) as Record<string, unknown>;
    expect(answer).toMatchObject({ ok: true, code: 'INVALID', event: { device: 'vf0', category: 'MAP' } });
  });

  it('a refusal of the API exits 1 with "error: <code>: <message>" on stderr', async () => {
    const invalid = file('invalid.json', {
      name: 'bad',
      config: { ...configOf('sva-pri-vtd', 10), workload: { streams: [] } },
    });
    const refused = await cli(['--url', server.url, 'run', invalid, '--json']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: EVALIDATION: .*streams/m);
    expect(refused.stdout).toBe('');

    const foreign = file('foreign.json', { format: 'something-else', data: [] });
    const notOurs = await cli(['--url', server.url, 'run', foreign]);
    expect(notOurs.code).toBe(1);
    expect(notOurs.stderr).toMatch(/^error: EFORMAT: .*reason: not-an-experiment/m);

    const unknown = await cli(['--url', server.url, 'compare', 'nope1', 'nope2']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: ENOENT: /m);
    const noLab = await cli(['--url', server.url, 'tail', 'no-such-lab']);
    expect(noLab.code).toBe(1);
    expect(noLab.stderr).toMatch(/^error: ENOENT: /m);
    // A filter the server refuses (it knows the event kinds).
    const lab = (await client.labs.create({ preset: 'sva-pri-vtd' })).id;
    const badKind = await cli(['--url', server.url, 'tail', lab, '--kind', 'no.such-kind']);
    expect(badKind.code).toBe(1);
    expect(badKind.stderr).toMatch(/^error: EVALIDATION: .*kinds/m);
  });

  it('an unreachable server exits 3', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await cli(['--url', url, 'compare', 'a', 'b']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^error: ECONNREFUSED: cannot reach/m);
    // The URL may come from the environment too.
    const fromEnv = await cli(['tail', 'lab1'], { IOMMU_LAB_URL: url });
    expect(fromEnv.code).toBe(3);
  });

  it('bad usage exits 2 with an EUSAGE error', async () => {
    const cases = [
      ['run'],
      ['run', file('ok.json', {}), '--runs', 'many'],
      ['frobnicate'],
      ['faults', 'run1'],
      ['faults', 'run1', '--format', 'xml'],
      ['handle', 'lab1'],
      ['tail', 'lab1', '--stage', '3'],
      ['sweep', 'exp1', '--param', 'capacity=8,16'],
      ['run', join(dir, 'missing.json')],
      ['run', file('not-json.json', '{"name": ')],
      ['--url', 'ftp://example', 'compare', 'a', 'b'],
      ['compare', 'only-one'],
    ];
    const results = await Promise.all(cases.map((args) => cli(['--url', server.url, ...args])));
    results.forEach((result, i) => {
      const args = cases[i]!.join(' ');
      expect(result.code, args).toBe(2);
      expect(result.stderr, args).toMatch(/^error: EUSAGE: /m);
    });
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const command of [
      'run',
      'compare',
      'tail',
      'handle',
      'faults',
      'trace',
      'sweep',
      'workers',
      'study',
    ])
      expect(help.stdout).toContain(command);
  });
});
