/**
 * fail-nth (fail-nth.ts): the nth allocation of a kind fails, and the lab answers as the kernel does at
 * that spot, leaking nothing. The sweep over every n of a whole scenario is
 * properties/fail-nth-leaks-nothing.property.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { IOMMU_HWPT_ALLOC, decodePgfaults } from '../iommufd/uapi';
import type { System } from '../system';
import {
  PRI_DEVICE,
  USER_BASE,
  bindProcess,
  capture,
  expectRefused,
  stepUntil,
  systemWith,
} from '../testing/fixtures';

const PAGE = 4096;

function inUse(s: System): Record<string, number> {
  return Object.fromEntries(Object.entries(s.faults.poolUse()).map(([name, use]) => [name, use.inUse]));
}

function counter(s: System, kind: string) {
  return s.failNthCounters().find((c) => c.kind === kind)!;
}

describe("fail-nth 'group': the struct iopf_group of a last request cannot be allocated", () => {
  it('mainline answers the on-stack abort group FAILURE, partials included, and frees them (io-pgfault.c iommu_report_device_fault, err_abort)', () => {
    const s = systemWith('vtd', 'mainline', [{ id: 'nic0', ...PRI_DEVICE }]);
    const { pasid } = bindProcess(s, 'nic0');
    const groups = capture(s, 'fault.group');
    const responses = capture(s, 'fault.response');
    const flows = capture(s, 'flow.ended');
    s.failNth({ kind: 'group', n: 1 });
    // Three untouched pages: two partial requests and a last one, one PRG.
    const tx = s.dma({ device: 'nic0', pasid, address: USER_BASE, length: 3 * PAGE, access: 'write' });
    s.runUntilIdle();
    expect(groups).toHaveLength(0); // no handler ever saw it
    expect(responses.map((r) => [r.code, r.cause, r.flows.length])).toEqual([
      ['FAILURE', 'group-alloc-failed', 3],
    ]);
    expect(flows.map((f) => [f.outcome, f.code, f.cause])).toEqual([
      ['failed', 'FAILURE', 'group-alloc-failed'],
      ['failed', 'FAILURE', 'group-alloc-failed'],
      ['failed', 'FAILURE', 'group-alloc-failed'],
    ]);
    // VT-d sends FAILURE as 0x2, which the function takes as Response Failure: PRI stops (vtd.ts VTD_WIRE).
    expect(tx.error).toBe('response-failure');
    expect(s.describe().devices[0]!.iopf.pri.responseFailure).toBe(true);
    expect(s.metrics().system.faults.outcomes['group-alloc-failed:FAILURE']).toBe(1);
    expect(s.faults.faultState(s.device('nic0')).partial).toHaveLength(0);
    expect(Object.values(inUse(s))).toEqual([0, 0, 0, 0, 0]);
  });

  it('v5.13 frees the partials and the VT-d driver answers the last request alone INVALID (iommu_queue_iopf cleanup_partial, prq_event_thread bad_req)', () => {
    const s = systemWith('vtd', 'seed-5.13', [{ id: 'nic0', ...PRI_DEVICE }]);
    const { pasid } = bindProcess(s, 'nic0');
    const responses = capture(s, 'fault.response');
    const flows = capture(s, 'flow.ended');
    s.failNth({ kind: 'group', n: 1 });
    const tx = s.dma({ device: 'nic0', pasid, address: USER_BASE, length: 3 * PAGE, access: 'write' });
    s.runUntilIdle();
    expect(responses.map((r) => [r.code, r.cause, r.group, r.flows.length])).toEqual([
      ['INVALID', 'group-alloc-failed', null, 1],
    ]);
    expect(flows.map((f) => f.outcome)).toEqual(['discarded', 'discarded', 'failed']);
    expect(tx.error).toBe('page-request-invalid');
    expect(s.describe().devices[0]!.iopf.pri.responseFailure).toBe(false);
    expect(Object.values(inUse(s))).toEqual([0, 0, 0, 0, 0]);
  });

  it('v5.13 SMMUv3 answers a stall whose report failed FAILURE, a CMD_RESUME ABORT (arm_smmu_handle_evt, "Nobody cared")', () => {
    const s = systemWith('smmuv3', 'seed-5.13', [{ id: 'acc', kind: 'platform', stall: true, pasidBits: 8 }]);
    const { pasid } = bindProcess(s, 'acc');
    const resumes = capture(s, 'stall.resume');
    s.failNth({ kind: 'group', n: 1 });
    const tx = s.dma({ device: 'acc', pasid, address: USER_BASE, length: 8, access: 'read' });
    s.runUntilIdle();
    expect(resumes.map((r) => [r.action, r.cause])).toEqual([['ABORT', 'group-alloc-failed']]);
    expect(tx.error).toBe('stall-terminated');
    expect(s.metrics().system.faults.outcomes['group-alloc-failed:FAILURE']).toBe(1);
  });

  it('fails only the nth allocation: the one before and the one after it are groups as usual', () => {
    const s = systemWith('vtd', 'mainline', [{ id: 'nic0', ...PRI_DEVICE }]);
    const { pasid } = bindProcess(s, 'nic0');
    const responses = capture(s, 'fault.response');
    expect(s.failNth({ kind: 'group', n: 2 })).toEqual({
      kind: 'group',
      allocations: 0,
      failed: 0,
      remaining: 2,
    });
    const one = (page: number) =>
      s.dma({ device: 'nic0', pasid, address: USER_BASE + page * PAGE, length: 8, access: 'read' });
    const first = one(0);
    s.runUntilIdle();
    expect(counter(s, 'group')).toMatchObject({ allocations: 1, failed: 0, remaining: 1 });
    const second = one(1);
    s.runUntilIdle();
    s.resetDevice('nic0'); // clears the Response Failure the second answer set
    const third = one(2);
    s.runUntilIdle();
    expect([first.state, second.error, third.state]).toEqual(['completed', 'response-failure', 'completed']);
    expect(responses.map((r) => r.cause)).toEqual(['handler', 'group-alloc-failed', 'handler']);
    expect(counter(s, 'group')).toEqual({ kind: 'group', allocations: 3, failed: 1, remaining: null });
  });
});

describe("fail-nth 'fault-queue-slot': the response xarray slot a group takes when user space reads it", () => {
  function vmm() {
    const s = systemWith('vtd', 'mainline', [{ id: 'nic0', ...PRI_DEVICE, prgResponsePasidRequired: true }]);
    const fd = s.iommufd;
    const { devId } = fd.bind('nic0');
    const { ioasId } = fd.ioasAlloc();
    const { faultId } = fd.faultQueueAlloc();
    const { hwptId } = fd.hwptAlloc({ devId, ptId: ioasId, flags: IOMMU_HWPT_ALLOC.FAULT_ID_VALID, faultId });
    fd.attach({ devId, ptId: hwptId });
    const queue = fd.faultQueue(faultId);
    for (const address of ['0x10000', '0x20000'])
      s.dma({ device: 'nic0', address, length: 8, access: 'read' });
    expect(stepUntil(s, () => queue.readable() === 2)).toBe(true);
    return { s, queue };
  }

  it('read() stops at the group whose xa_alloc failed and returns what it read before (iommufd_fault_fops_read)', () => {
    const { s, queue } = vmm();
    s.failNth({ kind: 'fault-queue-slot', n: 2 });
    expect(decodePgfaults(queue.read(10 * 40)).map((r) => [r.cookie, r.addr])).toEqual([[1, 0x10000n]]);
    expect([queue.readable(), queue.awaitingResponse()]).toEqual([1, 1]);
    expect(decodePgfaults(queue.read(10 * 40)).map((r) => [r.cookie, r.addr])).toEqual([[2, 0x20000n]]);
  });

  it('a read that fails at its first group is -ENOMEM and leaves every group queued', () => {
    const { s, queue } = vmm();
    s.failNth({ kind: 'fault-queue-slot', n: 1 });
    expect(() => queue.read(10 * 40)).toThrow(
      expect.objectContaining({ code: 'ENOMEM', reason: 'fail-nth' }),
    );
    expect([queue.readable(), queue.awaitingResponse()]).toEqual([2, 0]);
    expect(decodePgfaults(queue.read(10 * 40)).map((r) => r.cookie)).toEqual([1, 2]);
  });
});

describe("fail-nth 'domain': an iommu_domain allocation", () => {
  it('createDomain fails with ENOMEM and changes nothing; the call after it succeeds', () => {
    const s = systemWith('vtd', 'mainline');
    s.failNth({ kind: 'domain', n: 1 });
    expectRefused(s, () => s.createDomain({ iommu: 'iommu0', type: 'dma' }), 'ENOMEM', 'fail-nth');
    expect(s.createDomain({ iommu: 'iommu0', type: 'dma' }).id).toBe('dom0');
  });

  it('a name already taken is refused first, before the allocation is counted', () => {
    const s = systemWith('vtd', 'mainline');
    s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
    s.failNth({ kind: 'domain', n: 1 });
    expectRefused(s, () => s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' }), 'EEXIST');
    expect(counter(s, 'domain')).toMatchObject({ allocations: 1, remaining: 1 });
  });

  it('an iommufd HWPT allocation fails with ENOMEM and allocates no object (iommufd_hwpt_paging_alloc)', () => {
    const s = systemWith('vtd', 'mainline', [{ id: 'nic0', ...PRI_DEVICE }]);
    const fd = s.iommufd;
    const { devId } = fd.bind('nic0');
    const { ioasId } = fd.ioasAlloc();
    const objects = fd.describe();
    s.failNth({ kind: 'domain', n: 1 });
    expect(() => fd.hwptAlloc({ devId, ptId: ioasId })).toThrow(expect.objectContaining({ code: 'ENOMEM' }));
    expect(fd.describe()).toEqual(objects);
    expect(fd.hwptAlloc({ devId, ptId: ioasId }).hwptId).toBe(3);
  });

  it("a first SVA bind whose domain allocation fails is ENOMEM, and the mm keeps the PASID it got first (iommu_sva_bind_device's order)", () => {
    const s = systemWith('vtd', 'mainline', [{ id: 'nic0', ...PRI_DEVICE }]);
    s.createProcess({ id: 'app' });
    s.failNth({ kind: 'domain', n: 1 });
    expect(() => s.svaBind('nic0', 'app')).toThrow(expect.objectContaining({ code: 'ENOMEM' }));
    expect(s.process('app').pasid).toBe(1);
    expect(s.describe().devices[0]!.pasids).toEqual([]);
    expect(s.svaBind('nic0', 'app').pasid).toBe(1);
    expect(counter(s, 'pasid').allocations).toBe(1);
    s.svaUnbind('nic0', 'app');
    s.exitProcess('app');
    expect(s.process('app').pasid).toBeUndefined();
  });
});

describe("fail-nth 'pasid': an mm's PASID at its first SVA bind", () => {
  it('mainline: -ENOSPC, as iommu_alloc_mm_data answers any failure of iommu_alloc_global_pasid; nothing is taken', () => {
    const s = systemWith('vtd', 'mainline', [{ id: 'nic0', ...PRI_DEVICE }]);
    s.createProcess({ id: 'app' });
    s.failNth({ kind: 'pasid', n: 1 });
    expectRefused(s, () => s.svaBind('nic0', 'app'), 'ENOSPC', 'fail-nth');
    expect(s.process('app').pasid).toBeUndefined();
    expect(s.svaBind('nic0', 'app').pasid).toBe(1);
  });

  it('seed-5.13: -ENOMEM, as iommu_sva_alloc_pasid answers an ioasid_alloc that failed', () => {
    const s = systemWith('vtd', 'seed-5.13', [{ id: 'nic0', ...PRI_DEVICE }]);
    s.enableFeature('nic0', 'IOPF');
    s.enableFeature('nic0', 'SVA');
    s.createProcess({ id: 'app' });
    s.failNth({ kind: 'pasid', n: 1 });
    expectRefused(s, () => s.svaBind('nic0', 'app'), 'ENOMEM', 'fail-nth');
  });

  it('a process that has its PASID already allocates none: a second device binding it counts nothing', () => {
    const s = systemWith('vtd', 'mainline', [
      { id: 'nic0', ...PRI_DEVICE },
      { id: 'nic1', ...PRI_DEVICE },
    ]);
    s.createProcess({ id: 'app' });
    s.svaBind('nic0', 'app');
    s.failNth({ kind: 'pasid', n: 1 });
    expect(s.svaBind('nic1', 'app').pasid).toBe(1);
    expect(counter(s, 'pasid')).toMatchObject({ allocations: 1, failed: 0, remaining: 1 });
  });
});

describe('arming, reading and clearing fail-nth', () => {
  it('refuses an unknown kind or an n that is not a positive integer, and changes nothing', () => {
    const s = systemWith('vtd', 'mainline');
    expectRefused(s, () => s.failNth({ kind: 'iotlb' as never, n: 1 }), 'EINVAL', 'bad-kind');
    for (const n of [0, -1, 1.5, 2 ** 31])
      expectRefused(s, () => s.failNth({ kind: 'group', n }), 'EINVAL', 'bad-n');
    expect(s.failNthCounters().map((c) => c.remaining)).toEqual([null, null, null, null]);
  });

  it('clears one kind or all of them, keeping the counts', () => {
    const s = systemWith('vtd', 'mainline');
    s.createDomain({ iommu: 'iommu0', type: 'dma' });
    for (const kind of ['group', 'domain', 'pasid'] as const) s.failNth({ kind, n: 3 });
    s.clearFailNth('domain');
    expect(s.failNthCounters().map((c) => [c.kind, c.allocations, c.remaining])).toEqual([
      ['group', 0, 3],
      ['fault-queue-slot', 0, null],
      ['domain', 1, null],
      ['pasid', 0, 3],
    ]);
    s.clearFailNth();
    expect(s.failNthCounters().map((c) => c.remaining)).toEqual([null, null, null, null]);
  });

  it('unarmed, it only counts: one group allocation per group the iopf core built', () => {
    const s = systemWith('vtd', 'mainline', [{ id: 'nic0', ...PRI_DEVICE }]);
    const { pasid } = bindProcess(s, 'nic0');
    for (let i = 0; i < 4; i++)
      s.dma({ device: 'nic0', pasid, address: USER_BASE + i * 64 * PAGE, length: 2 * PAGE, access: 'read' });
    s.runUntilIdle();
    expect(s.metrics().system.faults.groups).toBe(4);
    expect(counter(s, 'group')).toEqual({ kind: 'group', allocations: 4, failed: 0, remaining: null });
  });
});
