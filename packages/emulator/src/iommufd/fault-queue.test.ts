/**
 * The iommufd fault object's file (drivers/iommu/iommufd/eventq.c: iommufd_fault_fops_read/_write,
 * reference §4), including what the kernel's selftest never checks: INVALID, a bad cookie, a buffer smaller
 * than a group, groups of several records, RESPONSE_NEEDS_PASID.
 */
import { describe, expect, it } from 'vitest';
import { refusal } from '../testing/refusal';
import { PAGE_REQUEST_FLAG_BITS } from '../fault/linux-fault-structs';
import { capture, stepUntil, systemWith } from '../testing/fixtures';
import type { System } from '../system';
import { IOMMU_HWPT_ALLOC, decodePgfaults, hwptPageResponse } from './uapi';

const PGFAULT = 40;
/** include/linux/iommu.h since v6.8, copied as is into iommu_hwpt_pgfault.flags (iommufd_compose_fault_message). */
const KERNEL_FLAGS = PAGE_REQUEST_FLAG_BITS['linux-6.10'];
const PAGE_REQUEST_LAST_PAGE = KERNEL_FLAGS.lastPage;

/** A VMM's setup: a PRI device bound to iommufd, on a paging HWPT of an IOAS with a fault object. */
function vmm(options: { pasid?: number } = {}) {
  const s = systemWith('vtd', 'mainline', [
    { id: 'nic0', ats: true, pri: { capacity: 32 }, pasidBits: 20, prgResponsePasidRequired: true },
  ]);
  const fd = s.iommufd;
  const { devId } = fd.bind('nic0');
  const { ioasId } = fd.ioasAlloc();
  const { faultId } = fd.faultQueueAlloc();
  const flags = IOMMU_HWPT_ALLOC.FAULT_ID_VALID | (options.pasid === undefined ? 0 : IOMMU_HWPT_ALLOC.PASID);
  const { hwptId, domain } = fd.hwptAlloc({ devId, ptId: ioasId, flags, faultId });
  fd.attach({ devId, ptId: hwptId, ...(options.pasid === undefined ? {} : { pasid: options.pasid }) });
  return { s, fd, devId, ioasId, faultId, hwptId, domain, queue: fd.faultQueue(faultId) };
}

function dmaAt(s: System, address: string, pages: number, pasid?: number) {
  return s.dma({
    device: 'nic0',
    address,
    length: pages * 4096,
    access: 'write',
    ...(pasid === undefined ? {} : { pasid }),
  });
}

function respond(...responses: [cookie: number, code: 'SUCCESS' | 'INVALID'][]): Uint8Array {
  const out = new Uint8Array(responses.length * 8);
  responses.forEach(([cookie, code], i) => out.set(hwptPageResponse({ cookie, code }), i * 8));
  return out;
}

function refused(call: () => unknown, code: string, reason: string): void {
  const error = refusal(call);
  expect([error.code, error.reason]).toEqual([code, reason]);
}

describe('reading the fault fd (iommufd_fault_fops_read)', () => {
  it('returns a group of several requests as 40-byte records with one cookie, from 1, LAST on the last', () => {
    const { s, queue, devId } = vmm();
    dmaAt(s, '0x40000', 3);
    expect(stepUntil(s, () => queue.readable() === 1)).toBe(true);
    const records = decodePgfaults(queue.read(10 * PGFAULT));
    expect(
      records.map((r) => [r.devId, r.cookie, r.addr, r.flags & PAGE_REQUEST_LAST_PAGE, r.length]),
    ).toEqual([
      [devId, 1, 0x40000n, 0, 0],
      [devId, 1, 0x41000n, 0, 0],
      [devId, 1, 0x42000n, PAGE_REQUEST_LAST_PAGE, 0],
    ]);
    expect(new Set(records.map((r) => r.grpid)).size).toBe(1);
    expect(queue.readable()).toBe(0);
    expect(queue.awaitingResponse()).toBe(1);
  });

  it('hands out whole groups only: a buffer smaller than the first group reads 0 bytes and keeps it', () => {
    const { s, queue } = vmm();
    dmaAt(s, '0x40000', 2);
    dmaAt(s, '0x80000', 1);
    expect(stepUntil(s, () => queue.readable() === 2)).toBe(true);
    expect(queue.read(PGFAULT)).toHaveLength(0);
    expect(queue.read(0)).toHaveLength(0);
    expect(queue.readable()).toBe(2);
    // Room for the first group and half of nothing: the second (1 record) fits only with 3 records' room.
    expect(decodePgfaults(queue.read(2 * PGFAULT)).map((r) => r.cookie)).toEqual([1, 1]);
    expect(decodePgfaults(queue.read(3 * PGFAULT)).map((r) => [r.cookie, r.addr])).toEqual([[2, 0x80000n]]);
  });

  it('refuses a size that is not whole records with ESPIPE, and a write that is not whole responses', () => {
    const { s, queue } = vmm();
    dmaAt(s, '0x40000', 1);
    expect(stepUntil(s, () => queue.readable() === 1)).toBe(true);
    refused(() => queue.read(39), 'ESPIPE', 'size');
    refused(() => queue.read(PGFAULT + 1), 'ESPIPE', 'size');
    expect(queue.readable()).toBe(1);
    queue.read(PGFAULT);
    refused(() => queue.write(new Uint8Array(12)), 'ESPIPE', 'size');
    expect(queue.awaitingResponse()).toBe(1);
  });

  it('takes cookies as xa_alloc from 1 does: the lowest free one, reused once answered', () => {
    const { s, queue } = vmm();
    for (const address of ['0x10000', '0x20000', '0x30000']) dmaAt(s, address, 1);
    expect(stepUntil(s, () => queue.readable() === 3)).toBe(true);
    expect(decodePgfaults(queue.read(3 * PGFAULT)).map((r) => r.cookie)).toEqual([1, 2, 3]);
    expect(queue.write(respond([2, 'INVALID']))).toBe(8);
    dmaAt(s, '0x50000', 1);
    expect(stepUntil(s, () => queue.readable() === 1)).toBe(true);
    expect(decodePgfaults(queue.read(PGFAULT)).map((r) => r.cookie)).toEqual([2]);
  });
});

describe('writing responses (iommufd_fault_fops_write)', () => {
  it('SUCCESS after the VMM maps the page resumes the DMA; INVALID fails it', () => {
    const { s, fd, ioasId, queue } = vmm();
    const good = dmaAt(s, '0x40000', 1);
    const bad = dmaAt(s, '0x90000', 1);
    expect(stepUntil(s, () => queue.readable() === 2)).toBe(true);
    const [first, second] = decodePgfaults(queue.read(2 * PGFAULT));
    fd.ioasMap(ioasId, { iova: '0x40000', size: 0x1000, phys: '0x200000', prot: 'rw' });
    expect(queue.write(respond([first!.cookie, 'SUCCESS'], [second!.cookie, 'INVALID']))).toBe(16);
    s.runUntilIdle();
    expect([good.state, bad.state, bad.error]).toEqual(['completed', 'faulted', 'page-request-invalid']);
    expect(queue.awaitingResponse()).toBe(0);
  });

  it('answers what came before a bad cookie and returns its bytes; a bad cookie first is EINVAL', () => {
    const { s, queue } = vmm();
    dmaAt(s, '0x10000', 1);
    dmaAt(s, '0x20000', 1);
    expect(stepUntil(s, () => queue.readable() === 2)).toBe(true);
    queue.read(2 * PGFAULT);
    const responses = capture(s, 'fault.response');
    expect(queue.write(respond([1, 'INVALID'], [7, 'SUCCESS'], [2, 'INVALID']))).toBe(8);
    expect(queue.awaitingResponse()).toBe(1);
    refused(() => queue.write(respond([7, 'SUCCESS'])), 'EINVAL', 'unknown-cookie');
    refused(() => queue.write(respond([1, 'SUCCESS'])), 'EINVAL', 'unknown-cookie');
    const badCode = new Uint8Array(8);
    new DataView(badCode.buffer).setUint32(0, 2, true);
    new DataView(badCode.buffer).setUint32(4, 2, true);
    refused(() => queue.write(badCode), 'EINVAL', 'bad-response-code');
    expect(queue.awaitingResponse()).toBe(1);
    s.runUntilIdle();
    expect(responses.map((r) => [r.code, r.cause])).toEqual([['INVALID', 'handler']]);
  });

  it('RESPONSE_NEEDS_PASID at a PASID: the record says so and the PRG Response carries the PASID; at the RID, neither', () => {
    // VT-d takes IOPF at a PASID only from a function that requires the PASID back (intel_iommu_enable_iopf),
    // and intel_prq_report sets PASID_VALID and RESPONSE_NEEDS_PASID together.
    for (const pasid of [5, undefined]) {
      const { s, devId, queue } = vmm(pasid === undefined ? {} : { pasid });
      const prg = capture(s, 'pri.response');
      dmaAt(s, '0x40000', 1, pasid);
      expect(stepUntil(s, () => queue.readable() === 1)).toBe(true);
      const [record] = decodePgfaults(queue.read(PGFAULT));
      const both = KERNEL_FLAGS.pasidValid | KERNEL_FLAGS.needsPasid;
      expect([record!.devId, record!.pasid, record!.flags & both]).toEqual([
        devId,
        pasid ?? 0,
        pasid === undefined ? 0 : both,
      ]);
      queue.write(respond([record!.cookie, 'INVALID']));
      s.runUntilIdle();
      const message = prg[0]!.records.find((r) => r.layout === 'pcie.prg-response')!;
      expect([message.fields.pasid, message.fields.prefixType !== 0]).toEqual([
        pasid ?? 0,
        pasid !== undefined,
      ]);
    }
  });
});

describe('what answers INVALID without user space (iommufd_auto_response_faults, iommufd_fault_destroy)', () => {
  it('detach answers every group of that attach, read or not, and a later write of its cookie is EINVAL', () => {
    const { s, fd, devId, queue } = vmm();
    const txs = [dmaAt(s, '0x10000', 2), dmaAt(s, '0x20000', 1)];
    expect(stepUntil(s, () => queue.readable() === 2)).toBe(true);
    expect(queue.read(3 * PGFAULT)).toHaveLength(3 * PGFAULT);
    txs.push(dmaAt(s, '0x30000', 1));
    expect(stepUntil(s, () => queue.readable() === 1)).toBe(true);
    expect([queue.readable(), queue.awaitingResponse()]).toEqual([1, 2]);
    const responses = capture(s, 'fault.response');
    fd.detach({ devId });
    expect(responses.map((r) => [r.code, r.cause])).toEqual([
      ['INVALID', 'detach'],
      ['INVALID', 'detach'],
      ['INVALID', 'detach'],
    ]);
    expect([queue.readable(), queue.awaitingResponse()]).toEqual([0, 0]);
    refused(() => queue.write(respond([1, 'SUCCESS'])), 'EINVAL', 'unknown-cookie');
    s.runUntilIdle();
    expect(txs.map((tx) => [tx.state, tx.error])).toEqual(Array(3).fill(['faulted', 'page-request-invalid']));
  });

  it('replace answers the groups of the attach it replaces, not those of the new one; no Stop Marker at a PASID', () => {
    const { s, fd, devId, ioasId, faultId, queue } = vmm({ pasid: 9 });
    const other = fd.hwptAlloc({
      devId,
      ptId: ioasId,
      flags: IOMMU_HWPT_ALLOC.FAULT_ID_VALID | IOMMU_HWPT_ALLOC.PASID,
      faultId,
    });
    dmaAt(s, '0x10000', 1, 9);
    expect(stepUntil(s, () => queue.readable() === 1)).toBe(true);
    const stops = capture(s, 'pri.stop-marker');
    const responses = capture(s, 'fault.response');
    fd.replace({ devId, ptId: other.hwptId, pasid: 9 });
    expect(responses.map((r) => [r.code, r.cause])).toEqual([['INVALID', 'detach']]);
    expect(stops).toEqual([]);
    dmaAt(s, '0x20000', 1, 9);
    expect(stepUntil(s, () => queue.readable() === 1)).toBe(true);
    const [record] = decodePgfaults(queue.read(PGFAULT));
    expect(record!.addr).toBe(0x20000n);
  });

  it('destroying the fault object is EBUSY while a HWPT holds it; by then its detach answered every group', () => {
    const { s, fd, devId, hwptId, faultId, queue } = vmm();
    dmaAt(s, '0x10000', 1);
    dmaAt(s, '0x20000', 1);
    expect(stepUntil(s, () => queue.readable() === 2)).toBe(true);
    queue.read(PGFAULT);
    refused(() => fd.destroy(faultId), 'EBUSY', 'in-use');
    // The HWPT holds the fault object and an attach holds the HWPT (iommufd_object_remove), so the
    // detach answers first and iommufd_fault_destroy finds nothing left.
    const responses = capture(s, 'fault.response');
    fd.detach({ devId });
    fd.destroy(hwptId);
    fd.destroy(faultId);
    expect(responses).toHaveLength(2);
    refused(() => fd.faultQueue(faultId), 'ENOENT', 'no-object');
  });
});

describe('what user space read and wrote is in the events and in the flow (layer: user)', () => {
  it('a read gives iommufd.read with one struct iommu_hwpt_pgfault per request; a write iommufd.response', () => {
    const { s, fd, ioasId, devId, faultId, queue } = vmm();
    const reads = capture(s, 'iommufd.read');
    const responses = capture(s, 'iommufd.response');
    const ended = capture(s, 'flow.ended');
    dmaAt(s, '0x40000', 2);
    expect(stepUntil(s, () => queue.readable() === 1)).toBe(true);
    const bytes = queue.read(2 * PGFAULT);
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ fault: faultId, device: 'nic0', cookie: 1 });
    expect(reads[0]!.records.map((r) => [r.layout, r.fields.devId, r.fields.cookie])).toEqual([
      ['iommufd.hwpt-pgfault', devId, 1],
      ['iommufd.hwpt-pgfault', devId, 1],
    ]);
    // The event's records are the bytes the read returned.
    expect(reads[0]!.records.map((r) => r.hex.replace(/^0x/, '')).join('')).toBe(
      Buffer.from(bytes).toString('hex'),
    );
    fd.ioasMap(ioasId, { iova: '0x40000', size: 0x2000, phys: '0x200000', prot: 'rw' });
    queue.write(respond([1, 'SUCCESS']));
    expect(responses.map((r) => [r.cookie, r.code, r.records[0]!.layout])).toEqual([
      [1, 'SUCCESS', 'iommufd.hwpt-page-response'],
    ]);
    s.runUntilIdle();
    const anatomy = ended[0]!.records.map((entry) => [entry.layer, entry.record.layout]);
    expect(anatomy.filter(([layer]) => layer === 'user')).toEqual([
      ['user', 'iommufd.hwpt-pgfault'],
      ['user', 'iommufd.hwpt-page-response'],
    ]);
    // In the order written: the kernel's struct iommu_fault before what user space read of it.
    const kernel = anatomy.findIndex(([layer]) => layer === 'kernel');
    expect(kernel).toBeGreaterThanOrEqual(0);
    expect(kernel).toBeLessThan(anatomy.findIndex(([layer]) => layer === 'user'));
  });
});
