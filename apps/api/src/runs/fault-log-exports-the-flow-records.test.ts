/**
 * A saved run's fault log keeps each fault flow's byte-exact records (issue 14): every logged fault lists
 * the records its flow had, in the flow's order, as the emulator gives them for the same config and seed,
 * in every format the server gives: a JSON page and JSONL with `{layout, hex, fields}`, CSV with a
 * `records` column of `layout:hex` separated by spaces. The hex decodes, by the layouts
 * GET /records/layouts serves, to the fields given beside it. A fault whose flow wrote no record has []
 * and an empty cell; a record saved before the column has null and an empty cell.
 */
import { FAULT_COLUMNS, faultRowOf } from '@iommu-lab/db';
import type { CarriedRecord, FlowRecord, LayoutDescription } from '@iommu-lab/emulator';
import type { ExperimentConfig } from '@iommu-lab/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, call, runExperiment, startServer } from '../testing/harness';
import { experimentSystem } from './experiment-system';

const KiB = 1024;
const USER_BASE = '0x7f0000000000';
const PRI_DEVICE = { ats: true, pri: { capacity: 64 }, pasidBits: 20, prgResponsePasidRequired: true };
const sequential = (device: string, base: string, pages: number, pasid?: number) => ({
  device,
  ...(pasid === undefined ? {} : { pasid }),
  pattern: 'sequential',
  base,
  workingSet: pages * 4 * KiB,
  accessSize: 4 * KiB,
  count: pages,
});

const config = {
  version: 1,
  seed: 3,
  system: {
    version: 1,
    iommus: [
      { id: 'vtd0', family: 'vtd', profile: 'mainline' },
      // The proposal takes SMMUv3 PRI requests (mainline denies them).
      { id: 'smmu0', family: 'smmuv3', profile: 'proposal' },
    ],
    devices: [
      { id: 'nic0', iommu: 'vtd0', ...PRI_DEVICE },
      { id: 'nic1', iommu: 'smmu0', ...PRI_DEVICE },
      // A DMA domain with nothing mapped: VT-d records each fault in an FRCD.
      { id: 'dma0', iommu: 'vtd0' },
      // Attached to nothing: SMMUv3 aborts its DMA and records no event, so its flow has no record.
      { id: 'idle0', iommu: 'smmu0' },
    ],
    processes: [{ id: 'app', vmas: [{ address: USER_BASE, size: 1024 * KiB, prot: 'rw' }] }],
    features: [
      { device: 'nic1', feature: 'IOPF' },
      { device: 'nic1', feature: 'SVA' },
    ],
    domains: [{ id: 'vtd-dma', iommu: 'vtd0', type: 'dma' }],
    attachments: [{ device: 'dma0', domain: 'vtd-dma' }],
    bindings: [
      { device: 'nic0', process: 'app' },
      { device: 'nic1', process: 'app' },
    ],
  },
  workload: {
    streams: [
      sequential('nic0', USER_BASE, 8, 1),
      sequential('nic1', USER_BASE, 8, 1),
      sequential('dma0', '0x0', 2),
      sequential('idle0', '0x0', 1),
    ],
  },
};

/** The flows the emulator gives for the run's config and seed, by flow id. */
function emulatorFlows(): Map<number, FlowRecord> {
  const system = experimentSystem(config as unknown as ExperimentConfig, config.seed);
  const flows = new Map<number, FlowRecord>();
  system.on('flow.ended', (flow) => flows.set(flow.flow, flow));
  const workload = system.runWorkload(config.workload as ExperimentConfig['workload']);
  system.runUntilIdle();
  expect(workload.finished).toBe(true);
  return flows;
}

/** Each field's value read straight from the hex by the served layout: bits over little-endian bytes. */
function fieldsFromHex(layout: LayoutDescription, hex: string): Record<string, number | string> {
  const bytes = hex.match(/../g)!;
  const whole = BigInt(`0x${[...bytes].reverse().join('')}`);
  return Object.fromEntries(
    layout.fields.map(({ name, bit, width }) => {
      const value = (whole >> BigInt(bit)) & ((1n << BigInt(width)) - 1n);
      return [name, width <= 53 ? Number(value) : `0x${value.toString(16)}`];
    }),
  );
}

interface LoggedFault {
  seq: number;
  flow: number;
  device: string;
  kind: string;
  records: CarriedRecord[] | null;
}

const PRI_RECORDS = {
  vtd: [
    'pcie.page-request',
    'vtd.page-request-descriptor',
    'linux.iommu-fault.linux-6.10',
    'linux.iommu-page-response.linux-6.10',
    'vtd.page-group-response',
    'pcie.prg-response',
  ],
  smmuv3: [
    'pcie.page-request',
    'smmuv3.priq-entry',
    'linux.iommu-fault.linux-6.10',
    'linux.iommu-page-response.linux-6.10',
    'smmuv3.cmd-pri-resp',
    'pcie.prg-response',
  ],
};

describe('the fault log exports the flow records', () => {
  let server: Running;
  let run: string;
  let faults: LoggedFault[];
  let flows: Map<number, FlowRecord>;
  const api = (method: string, path: string, body?: unknown) =>
    call(server.url, method, `/api/v1${path}`, body);
  const download = async (format: 'csv' | 'jsonl', runId = run) =>
    (await fetch(`${server.url}/api/v1/runs/${runId}/faults?format=${format}`)).text();
  const layoutsOf = (records: CarriedRecord[] | null) => records?.map((record) => record.layout);

  beforeAll(async () => {
    server = await startServer();
    run = await runExperiment(server, 'records', config);
    expect((await api('GET', `/runs/${run}`)).body.status).toBe('done');
    faults = (await api('GET', `/runs/${run}/faults?limit=1000`)).body.records as LoggedFault[];
    flows = emulatorFlows();
  });
  afterAll(() => server.close());

  it('json: every fault has the records its flow had, in the flow order', () => {
    expect(faults).toHaveLength(flows.size);
    for (const fault of faults)
      expect(fault.records).toEqual(flows.get(fault.flow)!.records.map((entry) => entry.record));
    const byDevice = (device: string) => faults.filter((fault) => fault.device === device);
    // The first page of each PRI stream faulted and every later one too (nothing was resident).
    expect(byDevice('nic0')).toHaveLength(8);
    expect(byDevice('nic1')).toHaveLength(8);
    for (const fault of byDevice('nic0')) expect(layoutsOf(fault.records)).toEqual(PRI_RECORDS.vtd);
    for (const fault of byDevice('nic1')) expect(layoutsOf(fault.records)).toEqual(PRI_RECORDS.smmuv3);
    expect(byDevice('dma0').map((fault) => [fault.kind, layoutsOf(fault.records)])).toEqual([
      ['unrecoverable', ['vtd.fault-record']],
      ['unrecoverable', ['vtd.fault-record']],
    ]);
    expect(byDevice('idle0').map((fault) => [fault.kind, fault.records])).toEqual([['unrecoverable', []]]);
  });

  it('json: each hex decodes by its served layout to the fields beside it', async () => {
    const { layouts } = (await api('GET', '/records/layouts')).body as { layouts: LayoutDescription[] };
    const layoutById = new Map(layouts.map((layout) => [layout.id, layout]));
    const records = faults.flatMap((fault) => fault.records!);
    expect(records.length).toBeGreaterThan(16 * 6);
    for (const record of records) {
      const layout = layoutById.get(record.layout)!;
      expect(record.hex).toHaveLength(layout.bytes * 2);
      expect(record.fields).toEqual(fieldsFromHex(layout, record.hex));
    }
    // The decoded fields say what the flow says: the PRQ descriptor's address is the faulting page.
    const nic0 = faults.find((fault) => fault.device === 'nic0')!;
    const descriptor = nic0.records!.find((record) => record.layout === 'vtd.page-request-descriptor')!;
    expect(descriptor.fields.addr).toBe(Number(flows.get(nic0.flow)!.address) / 4096);
  });

  it('csv: a records column, last, of layout:hex separated by spaces, empty for a flow without records', async () => {
    const lines = (await download('csv')).trim().split('\n');
    // No field of this run needs quoting, so a line splits at its commas.
    expect(lines.filter((line) => line.includes('"'))).toEqual([]);
    const header = lines[0]!.split(',');
    expect(header).toEqual(FAULT_COLUMNS);
    expect(header.at(-1)).toBe('records');
    const cells = lines.slice(1).map((line) => line.split(','));
    expect(cells.map((cell) => Number(cell[header.indexOf('seq')]))).toEqual(faults.map((f) => f.seq));
    cells.forEach((cell, i) => {
      const fromFlow = flows
        .get(faults[i]!.flow)!
        .records.map(({ record }) => `${record.layout}:${record.hex}`);
      expect(cell.at(-1)).toBe(fromFlow.join(' '));
    });
    expect(
      cells.filter((cell) => cell[header.indexOf('device')] === 'idle0').map((cell) => cell.at(-1)),
    ).toEqual(['']);
  });

  it('jsonl: each line is the fault with its decoded records, as the json page has it', async () => {
    const parsed = (await download('jsonl'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as LoggedFault);
    expect(parsed).toEqual(faults);
    expect(parsed.filter((fault) => fault.records!.length === 0).map((fault) => fault.device)).toEqual([
      'idle0',
    ]);
  });

  it('a record saved before the column reads back with null records, an empty CSV cell', async () => {
    const { experimentId } = (await api('GET', `/runs/${run}`)).body as { experimentId: string };
    const older = await server.app.db.prisma.run.create({ data: { experimentId, seed: 1, config: {} } });
    server.app.db.faults.append(older.id, [
      faultRowOf({
        seq: 0,
        timeNs: 0,
        device: 'nic0',
        address: '0x1000',
        access: 'r',
        kind: 'page-request',
        code: 'SUCCESS',
        flow: 1,
        outcome: 'resumed',
        endNs: 500,
        causes: '',
        records: null,
      }),
    ]);
    const page = (await api('GET', `/runs/${older.id}/faults`)).body as { records: LoggedFault[] };
    expect(page.records.map((fault) => fault.records)).toEqual([null]);
    expect(JSON.parse((await download('jsonl', older.id)).trim()).records).toBeNull();
    expect((await download('csv', older.id)).trim().split('\n')[1]!.endsWith(',')).toBe(true);
  });
});
