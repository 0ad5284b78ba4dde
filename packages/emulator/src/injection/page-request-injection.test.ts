/**
 * Raw page request injection (page-request-injection.ts): each test drives one rule of the path a PCIe
 * Page Request takes, with a request no well-behaved device would send, and checks the rule held.
 */
import { describe, expect, it } from 'vitest';
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
const hex = (address: number) => `0x${address.toString(16)}`;

function sva(family: 'vtd' | 'smmuv3' = 'vtd', capabilities = {}) {
  const s = systemWith(family, 'mainline', [], { seed: 1 });
  if (Object.keys(capabilities).length > 0) {
    // A second IOMMU with the capabilities asked for, so its queues can be small.
    s.addIommu({ id: 'small', family, profile: 'mainline', capabilities });
    s.addDevice({ id: 'nic0', iommu: 'small', ...PRI_DEVICE });
  } else s.addDevice({ id: 'nic0', iommu: 'iommu0', ...PRI_DEVICE });
  const { pasid } = bindProcess(s, 'nic0');
  return { s, pasid };
}

function inUse(s: System): number[] {
  return Object.values(s.faults.poolUse()).map((use) => use.inUse);
}

describe('an injected page request takes the path of a device’s own', () => {
  it('a Last without partials is a group of one for the domain’s handler (io-pgfault.c: a LAST_PAGE request collects the partials of its grpid, none here)', () => {
    const { s, pasid } = sva();
    const requests = capture(s, 'pri.page-request');
    const groups = capture(s, 'fault.group');
    const responses = capture(s, 'fault.response');
    const unexpected = capture(s, 'pri.unexpected-response');
    const injected = s.injectPageRequest({
      device: 'nic0',
      pasid,
      prgIndex: 5,
      access: { write: true },
      address: hex(USER_BASE),
      last: true,
    });
    s.runUntilIdle();
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      request: injected.request,
      injected: true,
      flow: null,
      prgIndex: 5,
      last: true,
      perm: 'w',
    });
    expect(groups.map((g) => [g.requests, g.faults, g.handler, g.grpid])).toEqual([
      [[injected.request], 1, 'sva', 5],
    ]);
    expect(responses.map((r) => [r.code, r.cause])).toEqual([['SUCCESS', 'handler']]);
    // The SVA handler faulted the page in for the process (iommu_sva_handle_mm).
    expect(s.iovaToPhys(groups[0]!.domain!, hex(USER_BASE)).prot).toBe('rw');
    // The device had nothing outstanding at index 5: the answer sets UPRGI and is ignored (PCIe PRI, §5).
    expect(unexpected.map((u) => u.prgIndex)).toEqual([5]);
    expect(s.describe().devices[0]!.iopf.pri.unexpectedPrgIndex).toBe(true);
    expect(inUse(s)).toEqual([0, 0, 0, 0, 0]);
  });

  it('two PASIDs in one PRG index make one group: partials join by grpid alone, PASID not compared (io-pgfault.c iopf_group_alloc)', () => {
    const { s, pasid } = sva();
    s.createProcess({ id: 'other' });
    s.mmap('other', { address: hex(USER_BASE), size: 0x10000, prot: 'rw' });
    const other = s.svaBind('nic0', 'other').pasid;
    const groups = capture(s, 'fault.group');
    const at = (page: number) => hex(USER_BASE + page * PAGE);
    const partial = s.injectPageRequest({
      device: 'nic0',
      pasid,
      prgIndex: 9,
      access: { read: true },
      address: at(0),
      last: false,
    });
    const last = s.injectPageRequest({
      device: 'nic0',
      pasid: other,
      prgIndex: 9,
      access: { read: true },
      address: at(1),
      last: true,
    });
    s.runUntilIdle();
    // One group, answered through its last request: the PASID is the last one's.
    expect(groups.map((g) => [g.requests, g.pasid, g.addresses])).toEqual([
      [[partial.request, last.request], other, [at(0), at(1)]],
    ]);
  });

  it('the device takes an answer for an outstanding PRG index whoever caused it; its own answer then comes unexpected (PCIe PRI, §5)', () => {
    const { s, pasid } = sva();
    const sent = capture(s, 'pri.page-request');
    const answers = capture(s, 'pri.response');
    const unexpected = capture(s, 'pri.unexpected-response');
    const tx = s.dma({ device: 'nic0', pasid, address: hex(USER_BASE), length: 8, access: 'read' });
    expect(stepUntil(s, () => sent.length === 1)).toBe(true);
    const { prgIndex } = sent[0]!;
    // The device's request is on the link; the injected one arrives first, at the same index and PASID.
    s.injectPageRequest({
      device: 'nic0',
      pasid,
      prgIndex,
      access: { read: true },
      address: hex(USER_BASE + 8 * PAGE),
      last: true,
    });
    s.runUntilIdle();
    expect(answers.map((a) => [a.prgIndex, a.response, a.flows])).toEqual([
      [prgIndex, 'Success', [sent[0]!.flow]],
    ]);
    expect(unexpected.map((u) => u.prgIndex)).toEqual([prgIndex]);
    expect(tx.state).toBe('completed');
    expect(inUse(s)).toEqual([0, 0, 0, 0, 0]);
  });

  it('the VT-d driver answers a privileged read INVALID as malformed before the iopf core (prq_event_thread: "Page request in Privilege Mode")', () => {
    const { s, pasid } = sva();
    const groups = capture(s, 'fault.group');
    const responses = capture(s, 'fault.response');
    s.injectPageRequest({
      device: 'nic0',
      pasid,
      prgIndex: 1,
      access: { read: true, privileged: true },
      address: hex(USER_BASE),
      last: true,
    });
    s.runUntilIdle();
    expect(groups).toHaveLength(0);
    expect(responses.map((r) => [r.code, r.cause, r.group])).toEqual([['INVALID', 'bad-request', null]]);
  });

  it('the VT-d driver drops a Stop Marker without answering it (prq_event_thread: "Drop Stop Marker message")', () => {
    const { s, pasid } = sva();
    const markers = capture(s, 'pri.stop-marker');
    const dropped = capture(s, 'pri.stop-marker-dropped');
    const responses = capture(s, 'fault.response');
    const injected = s.injectPageRequest({
      device: 'nic0',
      pasid,
      prgIndex: 0,
      access: {},
      address: '0x0',
      last: true,
      stopMarker: true,
    });
    s.runUntilIdle();
    expect(injected.stopMarker).toBe(true);
    expect(markers.map((m) => [m.request, m.injected])).toEqual([[injected.request, true]]);
    expect(dropped.map((d) => d.pasid)).toEqual([pasid]);
    expect(responses).toHaveLength(0);
    expect(inUse(s)).toEqual([0, 0, 0, 0, 0]);
  });

  it('fills the IOMMU’s page request queue like any request: a Last that finds it full is answered Success by the hardware, its partial discarded once drained (§7, PRS.PRO)', () => {
    const { s, pasid } = sva('vtd', { pageRequestQueueDepth: 1 });
    const overflows = capture(s, 'iommu.queue-overflow');
    const responses = capture(s, 'fault.response');
    const discarded = capture(s, 'iommu.partials-discarded');
    const base = { device: 'nic0', pasid, prgIndex: 3, access: { read: true }, address: hex(USER_BASE) };
    const partial = s.injectPageRequest({ ...base, last: false });
    const last = s.injectPageRequest({ ...base, last: true });
    s.runUntilIdle();
    expect(overflows.map((o) => [o.request, o.lastRequest])).toEqual([[last.request, true]]);
    expect(responses.map((r) => [r.request, r.code, r.cause])).toEqual([
      [last.request, 'SUCCESS', 'queue-overflow'],
    ]);
    expect(discarded.map((d) => d.requests)).toEqual([[partial.request]]);
    expect(inUse(s)).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('what cannot be injected is refused, and changes nothing', () => {
  const base = { prgIndex: 0, access: { read: true }, address: hex(USER_BASE), last: true };

  it('an unknown device is ENOENT, as every System call names it', () => {
    const { s } = sva();
    expectRefused(s, () => s.injectPageRequest({ device: 'nope', ...base }), 'ENOENT', 'no-such-device');
  });

  it('a PRG index outside 9 bits, or a PASID outside the device’s width, is EINVAL', () => {
    const { s } = sva();
    for (const prgIndex of [-1, 512, 1.5])
      expectRefused(
        s,
        () => s.injectPageRequest({ device: 'nic0', ...base, prgIndex }),
        'EINVAL',
        'bad-prg-index',
      );
    for (const bad of [-1, 2 ** 20, 0.5])
      expectRefused(
        s,
        () => s.injectPageRequest({ device: 'nic0', ...base, pasid: bad }),
        'EINVAL',
        'bad-pasid',
      );
  });

  it('a PASID from a device without the PASID capability is EINVAL', () => {
    const s = systemWith('vtd', 'seed-5.13', [{ id: 'nic0', ats: true, pri: { capacity: 8 } }]);
    s.enableFeature('nic0', 'IOPF');
    expectRefused(s, () => s.injectPageRequest({ device: 'nic0', ...base, pasid: 1 }), 'EINVAL', 'no-pasid');
  });

  it('a device without PRI, or with PRI not enabled, is EINVAL: it sends no page requests', () => {
    const s = systemWith('vtd', 'mainline', [
      { id: 'plain', ats: true },
      { id: 'idle', ...PRI_DEVICE },
    ]);
    expectRefused(s, () => s.injectPageRequest({ device: 'plain', ...base }), 'EINVAL', 'no-pri');
    expectRefused(s, () => s.injectPageRequest({ device: 'idle', ...base }), 'EINVAL', 'pri-disabled');
  });

  it('an address that is not a page, bad access flags, or a Stop Marker that is not L=1 with R=W=0 are EINVAL', () => {
    const { s, pasid } = sva();
    const at = { device: 'nic0', ...base, pasid };
    expectRefused(s, () => s.injectPageRequest({ ...at, address: '0x1234' }), 'EINVAL', 'misaligned');
    expectRefused(
      s,
      () => s.injectPageRequest({ ...at, access: { read: true, dirty: true } as never }),
      'EINVAL',
      'bad-access',
    );
    expectRefused(
      s,
      () => s.injectPageRequest({ ...at, access: { read: 'yes' } as never }),
      'EINVAL',
      'bad-access',
    );
    expectRefused(s, () => s.injectPageRequest({ ...at, stopMarker: true }), 'EINVAL', 'bad-stop-marker');
    expectRefused(
      s,
      () => s.injectPageRequest({ ...at, access: {}, stopMarker: false }),
      'EINVAL',
      'bad-stop-marker',
    );
  });
});
