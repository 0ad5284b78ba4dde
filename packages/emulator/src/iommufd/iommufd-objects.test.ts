/**
 * The iommufd objects and their errno contract (drivers/iommu/iommufd/: hw_pagetable.c, device.c, viommu.c,
 * eventq.c, main.c; reference §4). Every refusal leaves the objects as they were.
 */
import { describe, expect, it } from 'vitest';
import { refusal } from '../testing/refusal';
import { capture, stepUntil, systemWith } from '../testing/fixtures';
import type { System } from '../system';
import { IOMMU_HWPT_ALLOC, IOMMU_VEVENTQ_TYPE, IOMMU_VIOMMU_TYPE, decodeVevents } from './uapi';

const { NEST_PARENT, FAULT_ID_VALID, PASID } = IOMMU_HWPT_ALLOC;

function opened(
  family: 'vtd' | 'smmuv3' = 'vtd',
  profile: 'mainline' | 'proposal' | 'seed-5.13' = 'mainline',
) {
  const s = systemWith(family, profile, [
    { id: 'vf0', ats: true, pri: { capacity: 16 }, pasidBits: 20, prgResponsePasidRequired: true },
    { id: 'vf1', ats: true, pri: { capacity: 16 }, pasidBits: 20, prgResponsePasidRequired: true },
  ]);
  return { s, fd: s.iommufd };
}

/** Expects the errno and reason, and that the objects and the system are as before. */
function refused(s: System, call: () => unknown, code: string, reason: string): void {
  const before = JSON.stringify([s.iommufd.describe(), s.describe()]);
  const error = refusal(call);
  expect([error.code, error.reason]).toEqual([code, reason]);
  expect(JSON.stringify([s.iommufd.describe(), s.describe()])).toBe(before);
}

describe('iommufd objects: ids, HWPTs and their fault objects (hw_pagetable.c)', () => {
  it('gives ids from 1 out of one space for every type, the lowest free one again after IOMMU_DESTROY', () => {
    const { fd } = opened();
    const { devId } = fd.bind('vf0');
    const { ioasId } = fd.ioasAlloc();
    const { faultId } = fd.faultQueueAlloc();
    expect([devId, ioasId, faultId]).toEqual([1, 2, 3]);
    fd.destroy(ioasId);
    expect(fd.ioasAlloc().ioasId).toBe(2);
  });

  it('refuses a fault object on a nest-parent paging HWPT (EOPNOTSUPP), a bad fault id (ENOENT), unknown flags', () => {
    const { s, fd } = opened();
    const { devId } = fd.bind('vf0');
    const { ioasId } = fd.ioasAlloc();
    const { faultId } = fd.faultQueueAlloc();
    refused(
      s,
      () => fd.hwptAlloc({ devId, ptId: ioasId, flags: NEST_PARENT | FAULT_ID_VALID, faultId }),
      'EOPNOTSUPP',
      'fault-on-nest-parent',
    );
    refused(
      s,
      () => fd.hwptAlloc({ devId, ptId: ioasId, flags: FAULT_ID_VALID, faultId: 99 }),
      'ENOENT',
      'no-object',
    );
    refused(
      s,
      () => fd.hwptAlloc({ devId, ptId: ioasId, flags: FAULT_ID_VALID, faultId: ioasId }),
      'ENOENT',
      'no-object',
    );
    refused(s, () => fd.hwptAlloc({ devId, ptId: ioasId, flags: 1 << 9 }), 'EOPNOTSUPP', 'bad-flags');
    refused(s, () => fd.hwptAlloc({ devId: ioasId, ptId: ioasId }), 'ENOENT', 'no-object');
    refused(s, () => fd.faultQueueAlloc({ flags: 1 }), 'EOPNOTSUPP', 'bad-flags');
  });

  it('nests only on a nest-parent HWPT (EINVAL), and a nested HWPT takes a fault object', () => {
    const { s, fd } = opened();
    const { devId } = fd.bind('vf0');
    const { ioasId } = fd.ioasAlloc();
    const { faultId } = fd.faultQueueAlloc();
    const plain = fd.hwptAlloc({ devId, ptId: ioasId });
    refused(s, () => fd.hwptAlloc({ devId, ptId: plain.hwptId }), 'EINVAL', 'not-nest-parent');
    const parent = fd.hwptAlloc({ devId, ptId: ioasId, flags: NEST_PARENT });
    refused(
      s,
      () => fd.hwptAlloc({ devId, ptId: parent.hwptId, flags: NEST_PARENT }),
      'EOPNOTSUPP',
      'bad-flags',
    );
    const nested = fd.hwptAlloc({ devId, ptId: parent.hwptId, flags: FAULT_ID_VALID, faultId });
    expect(s.describe().domains.find((d) => d.id === nested.domain)).toMatchObject({ type: 'nested' });
    expect(fd.describe().find((o) => o.id === nested.hwptId)).toMatchObject({
      type: 'hwpt-nested',
      parent: parent.hwptId,
      fault: faultId,
    });
  });

  it('exists only under profiles with iommufd: seed-5.13 has none (EPROFILE)', () => {
    const { s, fd } = opened('vtd', 'seed-5.13');
    refused(s, () => fd.bind('vf0'), 'EPROFILE', 'not-in-profile');
  });
});

describe('attach, replace, detach (device.c) and IOMMU_DESTROY (main.c)', () => {
  it('attach over another HWPT is EINVAL at the RID, EBUSY at a PASID; replace swaps; destroy of an attached HWPT is EBUSY', () => {
    const { s, fd } = opened();
    const { devId } = fd.bind('vf0');
    const { ioasId } = fd.ioasAlloc();
    const a = fd.hwptAlloc({ devId, ptId: ioasId, flags: PASID });
    const b = fd.hwptAlloc({ devId, ptId: ioasId, flags: PASID });
    fd.attach({ devId, ptId: a.hwptId });
    refused(s, () => fd.attach({ devId, ptId: b.hwptId }), 'EINVAL', 'attached');
    refused(s, () => fd.destroy(a.hwptId), 'EBUSY', 'in-use');
    fd.replace({ devId, ptId: b.hwptId });
    expect(s.describe().devices.find((d) => d.id === 'vf0')).toMatchObject({ domain: b.domain });
    fd.destroy(a.hwptId);
    fd.attach({ devId, ptId: b.hwptId, pasid: 7 });
    const c = fd.hwptAlloc({ devId, ptId: ioasId, flags: PASID });
    refused(s, () => fd.attach({ devId, ptId: c.hwptId, pasid: 7 }), 'EBUSY', 'pasid-busy');
  });

  it('replace of a PASID that is not attached is EINVAL; detach of one is ENOENT; a HWPT without PASID cannot go to a PASID', () => {
    const { s, fd } = opened();
    const { devId } = fd.bind('vf0');
    const { ioasId } = fd.ioasAlloc();
    const withPasid = fd.hwptAlloc({ devId, ptId: ioasId, flags: PASID });
    const without = fd.hwptAlloc({ devId, ptId: ioasId });
    refused(s, () => fd.replace({ devId, ptId: withPasid.hwptId, pasid: 3 }), 'EINVAL', 'not-attached');
    refused(s, () => fd.detach({ devId, pasid: 3 }), 'ENOENT', 'not-attached');
    refused(s, () => fd.attach({ devId, ptId: without.hwptId, pasid: 3 }), 'EINVAL', 'not-pasid-compat');
  });

  it('an attach to an IOAS makes an automatic HWPT with its mappings, gone with its last attachment', () => {
    const { s, fd } = opened();
    const { devId } = fd.bind('vf0');
    const { ioasId } = fd.ioasAlloc();
    fd.ioasMap(ioasId, { iova: '0x10000', size: 0x2000, phys: '0x80000', prot: 'rw' });
    const { ptId } = fd.attach({ devId, ptId: ioasId });
    expect(fd.describe().find((o) => o.id === ptId)).toMatchObject({
      type: 'hwpt-paging',
      auto: true,
      attachments: 1,
    });
    expect(s.iovaToPhys(fd.describe().find((o) => o.id === ptId)!.domain as string, '0x11000')).toMatchObject(
      { phys: '0x81000' },
    );
    fd.detach({ devId });
    expect(fd.describe().some((o) => o.id === ptId)).toBe(false);
    fd.destroy(ioasId);
  });

  it('IOPF is enabled once per fault-capable attach and released at the last detach (refcounted)', () => {
    const { s, fd } = opened();
    const { devId } = fd.bind('vf0');
    const { ioasId } = fd.ioasAlloc();
    const { faultId } = fd.faultQueueAlloc();
    const hwpt = fd.hwptAlloc({ devId, ptId: ioasId, flags: FAULT_ID_VALID | PASID, faultId });
    const iopf = () => s.describe().devices.find((d) => d.id === 'vf0')!.iopf;
    fd.attach({ devId, ptId: hwpt.hwptId });
    fd.attach({ devId, ptId: hwpt.hwptId, pasid: 2048 });
    expect(iopf()).toMatchObject({ enabled: true, users: 2 });
    fd.detach({ devId });
    expect(iopf()).toMatchObject({ enabled: true, users: 1 });
    fd.detach({ devId, pasid: 2048 });
    expect(iopf()).toMatchObject({ enabled: false, users: 0 });
  });
});

describe('vIOMMU, vDEVICE and vEVENTQ (viommu.c, eventq.c)', () => {
  function nestedSmmu() {
    const { s, fd } = opened('smmuv3', 'mainline');
    const { devId } = fd.bind('vf0');
    const { ioasId } = fd.ioasAlloc();
    const parent = fd.hwptAlloc({ devId, ptId: ioasId, flags: NEST_PARENT });
    const { viommuId } = fd.viommuAlloc({ devId, hwptId: parent.hwptId, type: IOMMU_VIOMMU_TYPE.ARM_SMMUV3 });
    return { s, fd, devId, ioasId, parent, viommuId };
  }

  it('refuses DEFAULT and flags first (EOPNOTSUPP), a type the driver lacks (EOPNOTSUPP), a HWPT that is not a nest parent (EINVAL)', () => {
    for (const family of ['vtd', 'smmuv3'] as const) {
      const { s, fd } = opened(family, 'mainline');
      const { devId } = fd.bind('vf0');
      const { ioasId } = fd.ioasAlloc();
      const plain = fd.hwptAlloc({ devId, ptId: ioasId });
      const parent = fd.hwptAlloc({ devId, ptId: ioasId, flags: NEST_PARENT });
      const alloc = (hwptId: number, type: number, flags?: number) => () =>
        fd.viommuAlloc({ devId, hwptId, type, ...(flags === undefined ? {} : { flags }) });
      // iommufd_viommu_alloc_ioctl: `if (cmd->flags || cmd->type == IOMMU_VIOMMU_TYPE_DEFAULT) return -EOPNOTSUPP;`
      refused(s, alloc(plain.hwptId, IOMMU_VIOMMU_TYPE.DEFAULT), 'EOPNOTSUPP', 'bad-flags');
      refused(s, alloc(parent.hwptId, IOMMU_VIOMMU_TYPE.ARM_SMMUV3, 1), 'EOPNOTSUPP', 'bad-flags');
      if (family === 'vtd')
        refused(s, alloc(parent.hwptId, IOMMU_VIOMMU_TYPE.ARM_SMMUV3), 'EOPNOTSUPP', 'bad-type');
      else refused(s, alloc(plain.hwptId, IOMMU_VIOMMU_TYPE.ARM_SMMUV3), 'EINVAL', 'not-nest-parent');
    }
  });

  it('one vDEVICE per device and one device per virtual ID (EEXIST); one vEVENTQ per type (EEXIST); depth 0 is EINVAL', () => {
    const { s, fd, devId, viommuId } = nestedSmmu();
    const other = fd.bind('vf1').devId;
    const { vdeviceId } = fd.vdeviceAlloc({ viommuId, devId, virtId: 0x99 });
    refused(s, () => fd.vdeviceAlloc({ viommuId, devId, virtId: 0x88 }), 'EEXIST', 'has-vdevice');
    refused(s, () => fd.vdeviceAlloc({ viommuId, devId: other, virtId: 0x99 }), 'EEXIST', 'virt-id-taken');
    refused(
      s,
      () => fd.veventqAlloc({ viommuId, type: IOMMU_VEVENTQ_TYPE.DEFAULT, depth: 2 }),
      'EOPNOTSUPP',
      'bad-type',
    );
    refused(
      s,
      () => fd.veventqAlloc({ viommuId, type: IOMMU_VEVENTQ_TYPE.ARM_SMMUV3, depth: 0 }),
      'EINVAL',
      'bad-depth',
    );
    fd.veventqAlloc({ viommuId, type: IOMMU_VEVENTQ_TYPE.ARM_SMMUV3, depth: 2 });
    refused(
      s,
      () => fd.veventqAlloc({ viommuId, type: IOMMU_VEVENTQ_TYPE.ARM_SMMUV3, depth: 2 }),
      'EEXIST',
      'veventq-exists',
    );
    refused(s, () => fd.destroy(viommuId), 'EBUSY', 'in-use');
    fd.destroy(vdeviceId);
    expect(fd.vdeviceAlloc({ viommuId, devId, virtId: 0x88 }).vdeviceId).toBe(vdeviceId);
  });

  it("forwards a nested device's unrecoverable stage-1 event as the raw event record with the virtual StreamID", () => {
    const { s, fd, devId, parent, viommuId } = nestedSmmu();
    // viommu_alloc_nested_iopf: "Must allocate vdevice before attaching to a nested hwpt".
    const early = fd.hwptAlloc({ devId, ptId: viommuId });
    refused(s, () => fd.attach({ devId, ptId: early.hwptId }), 'ENOENT', 'no-vdevice');
    fd.destroy(early.hwptId);
    fd.vdeviceAlloc({ viommuId, devId, virtId: 0x88 });
    const { veventqId } = fd.veventqAlloc({ viommuId, type: IOMMU_VEVENTQ_TYPE.ARM_SMMUV3, depth: 4 });
    const nested = fd.hwptAlloc({ devId, ptId: viommuId });
    expect(fd.describe().find((o) => o.id === nested.hwptId)).toMatchObject({
      parent: parent.hwptId,
      viommu: viommuId,
    });
    fd.attach({ devId, ptId: nested.hwptId });
    const host = capture(s, 'fault.unrecoverable');
    const forwarded = capture(s, 'iommufd.vevent');
    s.dma({ device: 'vf0', address: '0x7000', length: 8, access: 'read' });
    s.runUntilIdle();
    const queue = fd.veventq(veventqId);
    expect(host.length).toBeGreaterThan(0);
    const [entry, ...rest] = decodeVevents(queue.read(1024), 32);
    expect(rest).toEqual([]);
    const hostRecord = host[0]!.records.find((r) => r.layout.startsWith('smmuv3.event-record'))!;
    const view = new DataView(entry!.data!.buffer, entry!.data!.byteOffset);
    // EVTQ_0_SID is bits 63:32 of dword 0 (arm-smmu-v3.h): the host's StreamID there, the virtual one here.
    expect([entry!.sequence, entry!.flags, view.getUint32(4, true)]).toEqual([0, 0, 0x88]);
    expect(Number(hostRecord.fields.sid)).toBe(s.device('vf0').rid);
    expect(Buffer.from(entry!.data!).toString('hex').slice(16)).toBe(
      hostRecord.hex.replace(/^0x/, '').slice(16),
    );
    // The event carries what the guest reads: the record with the virtual StreamID, decoded.
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]).toMatchObject({
      veventq: veventqId,
      viommu: viommuId,
      device: 'vf0',
      virtId: 0x88,
      sequence: 0,
      lost: false,
    });
    expect(Number(forwarded[0]!.records[0]!.fields.sid)).toBe(0x88);
    expect(forwarded[0]!.records[0]!.hex.replace(/^0x/, '')).toBe(Buffer.from(entry!.data!).toString('hex'));
  });
});

describe('the vEVENTQ file (iommufd_viommu_report_event, iommufd_vevent_handler)', () => {
  it('overflow: past depth one LOST_EVENTS header at the tail takes a sequence number; sequences wrap at INT_MAX', () => {
    const { fd } = opened('smmuv3', 'mainline');
    const { devId } = fd.bind('vf0');
    const parent = fd.hwptAlloc({ devId, ptId: fd.ioasAlloc().ioasId, flags: NEST_PARENT });
    const { viommuId } = fd.viommuAlloc({ devId, hwptId: parent.hwptId, type: IOMMU_VIOMMU_TYPE.ARM_SMMUV3 });
    const { veventqId } = fd.veventqAlloc({ viommuId, type: IOMMU_VEVENTQ_TYPE.ARM_SMMUV3, depth: 2 });
    const queue = fd.veventq(veventqId);
    const event = (n: number) => new Uint8Array(32).fill(n);
    for (let n = 1; n <= 5; n++) queue.report(event(n));
    const entries = decodeVevents(queue.read(4096), 32);
    // Events 1 and 2 fit; 3, 4 and 5 are lost: one header, moved to the tail each time, with 5's number.
    expect(entries.map((e) => [e.sequence, e.flags, e.data?.[0] ?? null])).toEqual([
      [0, 0, 1],
      [1, 0, 2],
      [4, 1, null],
    ]);
    // A header stays only while nothing came after it: the next event takes it off and shows the gap.
    queue.report(event(6));
    queue.report(event(7));
    queue.report(event(8));
    expect(decodeVevents(queue.read(40), 32).map((e) => e.sequence)).toEqual([5]);
    expect(decodeVevents(queue.read(4096), 32).map((e) => [e.sequence, e.flags])).toEqual([
      [6, 0],
      [7, 1],
    ]);
    expect(queue.describe()).toMatchObject({ depth: 2, waiting: 0, lost: 4 });
    // 2^31 reports are too many for a test: start the counter just below INT_MAX.
    const wrapping = fd.veventq(veventqId);
    (wrapping as unknown as { sequence: number }).sequence = 0x7fff_ffff;
    wrapping.report(event(9));
    wrapping.report(event(10));
    expect(decodeVevents(wrapping.read(80), 32).map((e) => e.sequence)).toEqual([0x7fff_ffff, 0]);
  });

  it('reads whole entries only: a buffer short of one entry reads 0 bytes', () => {
    const { fd } = opened('smmuv3', 'mainline');
    const { devId } = fd.bind('vf0');
    const parent = fd.hwptAlloc({ devId, ptId: fd.ioasAlloc().ioasId, flags: NEST_PARENT });
    const { viommuId } = fd.viommuAlloc({ devId, hwptId: parent.hwptId, type: IOMMU_VIOMMU_TYPE.ARM_SMMUV3 });
    const queue = fd.veventq(
      fd.veventqAlloc({ viommuId, type: IOMMU_VEVENTQ_TYPE.ARM_SMMUV3, depth: 8 }).veventqId,
    );
    queue.report(new Uint8Array(32));
    expect(queue.read(39)).toHaveLength(0);
    expect(queue.read(40)).toHaveLength(40);
  });
});

describe('a stage-1 fault of a nested HWPT with a fault object waits for user space', () => {
  it('reaches the fault fd at the guest address and resumes once the guest maps it (mainline)', () => {
    const { s, fd } = opened('vtd', 'mainline');
    const { devId } = fd.bind('vf0');
    const { ioasId } = fd.ioasAlloc();
    fd.ioasMap(ioasId, { iova: '0x0', size: 0x100000, phys: '0x100000', prot: 'rw' });
    const parent = fd.hwptAlloc({ devId, ptId: ioasId, flags: NEST_PARENT });
    const { faultId } = fd.faultQueueAlloc();
    const nested = fd.hwptAlloc({ devId, ptId: parent.hwptId, flags: FAULT_ID_VALID, faultId });
    fd.attach({ devId, ptId: nested.hwptId });
    const queue = fd.faultQueue(faultId);
    const tx = s.dma({ device: 'vf0', address: '0x7f0000000000', length: 8, access: 'read' });
    expect(stepUntil(s, () => queue.readable() === 1)).toBe(true);
    const bytes = queue.read(40);
    expect(new DataView(bytes.buffer).getBigUint64(24, true)).toBe(0x7f0000000000n);
    s.map(nested.domain, { iova: '0x7f0000000000', size: 0x1000, phys: '0x2000', prot: 'r' });
    queue.write(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]));
    s.runUntilIdle();
    expect(tx.state).toBe('completed');
  });
});

describe('what iommufd holds changes only through iommufd', () => {
  it("refuses the system's own attach, detach and destroy of a bound device or a HWPT's domain (EBUSY)", () => {
    const { s, fd } = opened();
    s.createDomain({ id: 'mine', iommu: 'iommu0', type: 'dma' });
    s.attach('vf1', 'mine');
    refused(s, () => fd.bind('vf1'), 'EBUSY', 'attached');
    const { devId } = fd.bind('vf0');
    const hwpt = fd.hwptAlloc({ devId, ptId: fd.ioasAlloc().ioasId });
    fd.attach({ devId, ptId: hwpt.hwptId });
    refused(s, () => s.detach('vf0'), 'EBUSY', 'iommufd-owned');
    refused(s, () => s.attach('vf0', 'mine', { replace: true }), 'EBUSY', 'iommufd-owned');
    s.detach('vf1');
    refused(s, () => s.attach('vf1', hwpt.domain), 'EBUSY', 'iommufd-owned');
    refused(s, () => s.destroyDomain(hwpt.domain), 'EBUSY', 'iommufd-owned');
    fd.detach({ devId });
    fd.destroy(hwpt.hwptId);
    expect(s.describe().domains.some((d) => d.id === hwpt.domain)).toBe(false);
  });
});
