/**
 * A saved run's fault log names each unrecoverable fault's code as its hardware recorded it (issue 12,
 * kernel detail): `reason` is the VT-d fault reason or the SMMUv3 event ID in hex, beside `code`, its name,
 * in every format the server gives (a JSON page, CSV, JSONL). A fault whose hardware records nothing has a
 * null reason, which a CSV writes as an empty field.
 */
import { FAULT_COLUMNS } from '@iommu-lab/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, call, runExperiment, startServer } from '../testing/harness';

const KiB = 1024;
/** Sixteen 4 KiB pages from 0x0; only the first is mapped, so the rest fault unrecoverably. */
const stream = (device: string) => ({
  device,
  pattern: 'sequential',
  base: '0x0',
  workingSet: 64 * KiB,
  accessSize: 4 * KiB,
  count: 16,
});

const config = {
  version: 1,
  seed: 1,
  system: {
    version: 1,
    iommus: [
      { id: 'vtd0', family: 'vtd', profile: 'mainline' },
      { id: 'smmu0', family: 'smmuv3', profile: 'mainline' },
    ],
    devices: [
      { id: 'nic0', iommu: 'vtd0' },
      { id: 'gpu0', iommu: 'smmu0' },
      // Attached to nothing: SMMUv3 aborts its DMA without recording an event.
      { id: 'idle0', iommu: 'smmu0' },
    ],
    domains: [
      { id: 'vtd-dma', iommu: 'vtd0', type: 'dma' },
      { id: 'smmu-dma', iommu: 'smmu0', type: 'dma' },
    ],
    mappings: [
      { domain: 'vtd-dma', iova: '0x0', size: 4 * KiB, prot: 'rw' },
      { domain: 'smmu-dma', iova: '0x0', size: 4 * KiB, prot: 'rw' },
    ],
    attachments: [
      { device: 'nic0', domain: 'vtd-dma' },
      { device: 'gpu0', domain: 'smmu-dma' },
    ],
  },
  workload: { streams: [stream('nic0'), stream('gpu0'), { ...stream('idle0'), count: 1 }] },
};

interface LoggedFault {
  seq: number;
  device: string;
  kind: string;
  code: string;
  reason: string | null;
}

describe('the fault log exports the hardware reason', () => {
  let server: Running;
  let run: string;
  let records: LoggedFault[];
  const api = (method: string, path: string, body?: unknown) =>
    call(server.url, method, `/api/v1${path}`, body);
  const download = async (format: 'csv' | 'jsonl', query = '') =>
    (await fetch(`${server.url}/api/v1/runs/${run}/faults?format=${format}${query}`)).text();

  beforeAll(async () => {
    server = await startServer();
    run = await runExperiment(server, 'unrecoverable', config);
    const view = await api('GET', `/runs/${run}`);
    expect(view.body.status).toBe('done');
    records = (await api('GET', `/runs/${run}/faults?limit=1000`)).body.records as LoggedFault[];
  });
  afterAll(() => server.close());

  it('json: the VT-d fault reason and the SMMUv3 event ID in hex, beside their names', () => {
    const byDevice = (device: string) => records.filter((record) => record.device === device);
    // 15 unmapped pages each; the mapped first page did not fault.
    expect(byDevice('nic0')).toHaveLength(15);
    expect(byDevice('gpu0')).toHaveLength(15);
    expect(records.every((record) => record.kind === 'unrecoverable')).toBe(true);
    expect(byDevice('nic0')[0]).toMatchObject({
      reason: '0x71',
      code: 'SM: Present bit in first-level paging entry is clear',
    });
    expect(byDevice('gpu0')[0]).toMatchObject({ reason: '0x10', code: 'F_TRANSLATION' });
    expect(byDevice('idle0')).toEqual([
      expect.objectContaining({ reason: null, code: 'STE.Config abort (no event recorded)' }),
    ]);
  });

  it('json: a page filtered by reason holds exactly the faults with that code', async () => {
    const page = (await api('GET', `/runs/${run}/faults?reason=0x10&limit=1000`)).body;
    expect(page.total).toBe(15);
    expect(page.records.every((record: LoggedFault) => record.device === 'gpu0')).toBe(true);
    const refused = await api('GET', `/runs/${run}/faults?reason=F_TRANSLATION`);
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain('e.g. 0x10');
  });

  it('csv: a reason column in the header and the hex code (or an empty field) in each line', async () => {
    const lines = (await download('csv')).trim().split('\n');
    // No field of this run needs quoting, so a line splits at its commas.
    expect(lines.filter((line) => line.includes('"'))).toEqual([]);
    expect(lines[0]).toBe(FAULT_COLUMNS.join(','));
    const header = lines[0]!.split(',');
    // After the hop columns, where it was appended: later columns go after it.
    expect(header.indexOf('reason')).toBe(header.indexOf('handlerGuestNs') + 1);
    const at = header.indexOf('reason');
    const device = header.indexOf('device');
    const cells = lines.slice(1).map((line) => line.split(','));
    expect(cells).toHaveLength(records.length);
    expect(new Set(cells.filter((c) => c[device] === 'nic0').map((c) => c[at]))).toEqual(new Set(['0x71']));
    expect(new Set(cells.filter((c) => c[device] === 'gpu0').map((c) => c[at]))).toEqual(new Set(['0x10']));
    expect(cells.filter((c) => c[device] === 'idle0').map((c) => c[at])).toEqual(['']);
  });

  it('jsonl: each line is the record with its reason, as the json page has it', async () => {
    const lines = (await download('jsonl')).trim().split('\n');
    const parsed = lines.map((line) => JSON.parse(line) as LoggedFault);
    expect(parsed).toEqual(records);
    expect(new Set(parsed.map((record) => record.reason))).toEqual(new Set(['0x71', '0x10', null]));
  });
});
