/**
 * Byte-exact records over a real server: GET /records/layouts serves every layout the lab writes, each
 * field with its place, once; the records events carry name these layouts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, call, startServer } from '../testing/harness';
import { API, type Body, expectStatus } from '../testing/lab-client';

let server: Running;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

describe('GET /records/layouts', () => {
  it('serves the VT-d, SMMUv3, PCIe, Linux and iommufd layouts, every field inside its record', async () => {
    const { layouts } = expectStatus(await call(server.url, 'GET', `${API}/records/layouts`), 200) as Body;
    const ids = (layouts as { id: string }[]).map((layout) => layout.id);
    for (const id of [
      'vtd.page-request-descriptor',
      'vtd.page-group-response',
      'smmuv3.event-record',
      'smmuv3.cmd-resume',
      'pcie.page-request',
      'linux.iommu-fault.linux-6.10',
      'iommufd.hwpt-pgfault',
    ])
      expect(ids).toContain(id);
    for (const layout of layouts as { bytes: number; fields: { bit: number; width: number }[] }[])
      for (const field of layout.fields)
        expect(field.bit + field.width).toBeLessThanOrEqual(layout.bytes * 8);
  });
});
