/**
 * What a fault writes, byte for byte, layer by layer (issue 14; reference §1, §5-7): the events that stand
 * for a record carry it, and an ended flow's anatomy lists every record of its life in the order written.
 * Each record's hex decodes, by its layout, to the fields it carries, and those fields say what the events
 * and the flow say (the address, the PRG index or stall tag, the PASID, the response code).
 */
import { describe, expect, it } from 'vitest';
import type { CarriedRecord } from '../records/bit-layout';
import { carryRecord, fromHex } from '../records/bit-layout';
import { RECORD_LAYOUTS } from '../records/layouts';
import { USER_BASE, bindProcess, capture, systemWith } from '../testing/fixtures';

const byId = new Map(RECORD_LAYOUTS.map((layout) => [layout.id, layout]));

/** The record re-read from its own hex by its layout: what a client decoding the bytes would get. */
function reread(record: CarriedRecord): CarriedRecord {
  const layout = byId.get(record.layout);
  if (layout === undefined) throw new Error(`${record.layout} is not a served layout`);
  return carryRecord(layout, fromHex(record.hex));
}

describe('records a fault writes, in the events and in the flow', () => {
  it('a VT-d PRI fault: the message, the PRQ descriptor, iommu_fault, the response, the descriptor, the PRG Response', () => {
    const s = systemWith('vtd', 'mainline', [{ id: 'nic', ats: true, pri: { capacity: 32 }, pasidBits: 8 }]);
    const { pasid } = bindProcess(s, 'nic');
    const flows = capture(s, 'flow.ended');
    const requests = capture(s, 'pri.page-request');
    const groups = capture(s, 'fault.group');
    const responses = capture(s, 'fault.response');
    const delivered = capture(s, 'pri.response');
    s.dma({ device: 'nic', pasid, address: USER_BASE, length: 8, access: 'write' });
    s.runUntilIdle();

    expect(flows).toHaveLength(1);
    const anatomy = flows[0]!.records;
    expect(anatomy.map((entry) => [entry.layer, entry.record.layout])).toEqual([
      ['device', 'pcie.page-request'],
      ['iommu', 'vtd.page-request-descriptor'],
      ['kernel', 'linux.iommu-fault.linux-6.10'],
      ['kernel', 'linux.iommu-page-response.linux-6.10'],
      ['iommu', 'vtd.page-group-response'],
      ['device', 'pcie.prg-response'],
    ]);
    // In the order written, each within the flow's life.
    const times = anatomy.map((entry) => entry.atNs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[0]).toBeGreaterThanOrEqual(flows[0]!.startNs);
    expect(times.at(-1)).toBeLessThanOrEqual(flows[0]!.endNs);

    for (const { record } of anatomy) expect(reread(record)).toEqual(record);
    const [message, descriptor, fault, response, command, prgResponse] = anatomy.map((e) => e.record.fields);
    const prgIndex = requests[0]!.prgIndex;
    expect(descriptor).toMatchObject({
      pasidPresent: 1,
      pasid,
      prgIndex,
      addr: USER_BASE / 4096,
      wrReq: 1,
      lpig: 1,
    });
    expect(message).toMatchObject({ prgIndex, write: 1, last: 1, pasid });
    // The v6.10 struct: PAGE_REQ is 1, the PRG index as grpid; addr is a u64, so carried as hex.
    expect(fault).toMatchObject({ type: 1, grpid: prgIndex, pasid, addr: '0x7f0000000000' });
    expect(response).toMatchObject({ grpid: prgIndex, code: 0 });
    expect(command).toMatchObject({ type: 0x9, responseCode: 0, prgIndex, lpig: 1, pasid });
    expect(prgResponse).toMatchObject({ prgIndex, responseCode: 0 });

    // The events that stand for them carry the same bytes.
    expect(requests[0]!.records).toEqual([anatomy[0]!.record]);
    expect(groups[0]!.records).toEqual([anatomy[1]!.record, anatomy[2]!.record]);
    expect(responses[0]!.records).toEqual([anatomy[3]!.record, anatomy[4]!.record]);
    expect(delivered[0]!.records).toEqual([anatomy[5]!.record]);
  });

  it('the seed-5.13 profile reports the v5.13 uapi struct: PAGE_REQ = 2, the response with argsz and version', () => {
    const s = systemWith('vtd', 'seed-5.13', [{ id: 'nic', ats: true, pri: { capacity: 32 }, pasidBits: 8 }]);
    const { pasid } = bindProcess(s, 'nic');
    const flows = capture(s, 'flow.ended');
    s.dma({ device: 'nic', pasid, address: USER_BASE, length: 8, access: 'read' });
    s.runUntilIdle();
    const records = flows[0]!.records.map((entry) => entry.record);
    expect(records.find((r) => r.layout === 'linux.iommu-fault.uapi-5.13')?.fields).toMatchObject({
      type: 2,
    });
    expect(records.find((r) => r.layout === 'linux.iommu-page-response.uapi-5.13')?.fields).toMatchObject({
      version: 1,
      flags: 1,
      pasid,
    });
  });

  it('an SMMUv3 stall: the event record with Stall and STAG, iommu_fault, the response, CMD_RESUME RETRY', () => {
    const s = systemWith('smmuv3', 'mainline', [{ id: 'acc', kind: 'platform', stall: true, pasidBits: 8 }]);
    const { pasid } = bindProcess(s, 'acc');
    const flows = capture(s, 'flow.ended');
    const stalled = capture(s, 'stall.stalled');
    const resumed = capture(s, 'stall.resume');
    s.dma({ device: 'acc', pasid, address: USER_BASE, length: 8, access: 'read' });
    s.runUntilIdle();
    const anatomy = flows[0]!.records;
    expect(anatomy.map((entry) => entry.record.layout)).toEqual([
      'smmuv3.event-record',
      'linux.iommu-fault.linux-6.10',
      'linux.iommu-page-response.linux-6.10',
      'smmuv3.cmd-resume',
    ]);
    const stag = stalled[0]!.stag;
    expect(anatomy[0]!.record.fields).toMatchObject({
      id: 0x10,
      stall: 1,
      stag,
      rnw: 1,
      ssv: 1,
      ssid: pasid,
    });
    expect(anatomy[3]!.record.fields).toMatchObject({ op: 0x44, resp: 1, stag });
    expect(stalled[0]!.records).toEqual([anatomy[0]!.record]);
    expect(resumed[0]!.records).toEqual([anatomy[2]!.record, anatomy[3]!.record]);
    for (const { record } of anatomy) expect(reread(record)).toEqual(record);
  });

  it('an unrecoverable VT-d fault: the fault recording register with F set and the fault reason', () => {
    const s = systemWith('vtd', 'mainline', [{ id: 'nic' }]);
    s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
    s.attach('nic', 'd');
    const flows = capture(s, 'flow.ended');
    const faults = capture(s, 'fault.unrecoverable');
    s.dma({ device: 'nic', address: '0x5000', length: 8, access: 'read' });
    s.runUntilIdle();
    const [frcd] = faults[0]!.records;
    expect(frcd!.layout).toBe('vtd.fault-record');
    expect(frcd!.fields).toMatchObject({
      fault: 1,
      faultReason: Number(faults[0]!.reason),
      faultInfo: 5,
      type: 1,
    });
    expect(flows[0]!.records.map((entry) => entry.record)).toEqual([frcd]);
  });
});
