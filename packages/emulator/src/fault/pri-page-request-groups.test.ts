import { describe, expect, it } from 'vitest';
import { PRI_DEVICE, USER_BASE, bindProcess, capture, systemWith } from '../testing/fixtures';

function sva(capacity = 32, profile: 'seed-5.13' | 'mainline' = 'seed-5.13') {
  const s = systemWith('vtd', profile, [{ id: 'nic0', ...PRI_DEVICE, pri: { capacity } }]);
  const { pasid } = bindProcess(s, 'nic0', 0x100000);
  return { s, pasid };
}

describe('PCIe PRI on the device (reference §5, §10.1)', () => {
  it('sends the faulting pages of one burst as one page request group, Last on the last request', () => {
    const { s, pasid } = sva();
    const requests = capture(s, 'pri.page-request');
    const groups = capture(s, 'fault.group');
    const tx = s.dma({ device: 'nic0', pasid, address: USER_BASE, length: 4 * 4096, access: 'write' });
    s.runUntilIdle();
    expect(tx.state).toBe('completed');
    expect(requests.map((r) => [r.address, r.prgIndex, r.last, r.perm, r.pasid])).toEqual([
      ['0x7f0000000000', 0, false, 'w', pasid],
      ['0x7f0000001000', 0, false, 'w', pasid],
      ['0x7f0000002000', 0, false, 'w', pasid],
      ['0x7f0000003000', 0, true, 'w', pasid],
    ]);
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ faults: 4, category: 'BIND', stage: 1, handler: 'sva' });
  });

  it('only the pages that fail join the burst: resident pages are translated, not requested', () => {
    const { s, pasid } = sva();
    s.populate('app', USER_BASE + 4096, 4096);
    const requests = capture(s, 'pri.page-request');
    s.dma({ device: 'nic0', pasid, address: USER_BASE, length: 3 * 4096, access: 'read' });
    s.runUntilIdle();
    expect(requests.map((r) => r.address)).toEqual(['0x7f0000000000', '0x7f0000002000']);
  });

  it('never has more requests outstanding than its Allocation: a group that does not fit is cut short', () => {
    const { s, pasid } = sva(3);
    const requests = capture(s, 'pri.page-request');
    let maxOutstanding = 0;
    s.on(
      'pri.page-request',
      () => (maxOutstanding = Math.max(maxOutstanding, s.describe().devices[0]!.iopf.pri.outstanding)),
    );
    const tx = s.dma({ device: 'nic0', pasid, address: USER_BASE, length: 8 * 4096, access: 'read' });
    s.runUntilIdle();
    expect(tx.state).toBe('completed');
    expect(maxOutstanding).toBeLessThanOrEqual(3);
    // Groups of 3, 3 and 2, each ending with Last.
    const groupSizes: number[] = [];
    let size = 0;
    for (const r of requests) {
      size++;
      if (r.last) {
        groupSizes.push(size);
        size = 0;
      }
    }
    expect(groupSizes).toEqual([3, 3, 2]);
  });

  it('bursts beyond the credit wait for credit, and go out when responses return it', () => {
    const { s, pasid } = sva(2);
    const waits = capture(s, 'pri.credit-wait');
    const txs = [0, 1, 2].map((i) =>
      s.dma({ device: 'nic0', pasid, address: USER_BASE + i * 0x10000, length: 2 * 4096, access: 'read' }),
    );
    s.runUntilIdle();
    expect(txs.map((tx) => tx.state)).toEqual(['completed', 'completed', 'completed']);
    expect(waits.length).toBeGreaterThan(0);
    const faults = s.metrics().devices.nic0!.faults;
    expect(faults.creditWaits).toBe(waits.length);
    expect(faults.creditWaitNs.count).toBeGreaterThan(0);
    expect(faults.creditWaitNs.max).toBeGreaterThan(0);
  });

  it('sends a Stop Marker when a PASID is torn down; the driver drops it without a response (intel/prq.c)', () => {
    const { s } = sva(32, 'mainline');
    const markers = capture(s, 'pri.stop-marker');
    const dropped = capture(s, 'pri.stop-marker-dropped');
    const responses = capture(s, 'fault.response');
    s.svaUnbind('nic0', 'app');
    s.runUntilIdle();
    expect(markers).toEqual([expect.objectContaining({ device: 'nic0', pasid: 1, last: true, perm: '-' })]);
    expect(dropped).toHaveLength(1);
    expect(responses).toHaveLength(0);
    expect(s.metrics().devices.nic0!.faults.stopMarkers).toBe(1);
  });

  it('execute and privileged page requests are refused by the VT-d driver (INVALID), as intel/prq.c does', () => {
    const { s, pasid } = sva();
    s.mprotect('app', USER_BASE, 0x1000, 'rx');
    const exec = s.dma({ device: 'nic0', pasid, address: USER_BASE, length: 8, access: 'exec' });
    const priv = s.dma({
      device: 'nic0',
      pasid,
      address: USER_BASE + 0x1000,
      length: 8,
      access: 'read',
      privileged: true,
    });
    s.runUntilIdle();
    expect(exec.error).toBe('page-request-invalid');
    expect(priv.error).toBe('page-request-invalid');
    expect(s.metrics().system.faults.outcomes['bad-request:INVALID']).toBe(2);
  });
});
