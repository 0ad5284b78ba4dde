import { describe, expect, it } from 'vitest';
import { USER_BASE, bindProcess, capture, systemWith } from '../testing/fixtures';

describe('devices that handle their own faults (reference §3)', () => {
  it('resolves the page through the device driver and retries, with no PRI', () => {
    const s = systemWith('vtd', 'seed-5.13', [{ id: 'gpu0', pasidBits: 20, managesOwnFaults: true }], {
      latency: { deviceFaultNs: 1000, minorFaultNs: 500 },
    });
    const { pasid } = bindProcess(s, 'gpu0');
    const handled = capture(s, 'fault.device-handled');
    const requests = capture(s, 'pri.page-request');
    const tx = s.dma({ device: 'gpu0', pasid, address: USER_BASE, length: 2 * 4096, access: 'write' });
    s.runUntilIdle();
    expect(tx.state).toBe('completed');
    expect(tx.recoveries).toBe(2);
    expect(handled.map((h) => [h.address, h.outcome])).toEqual([
      ['0x7f0000000000', 'minor'],
      ['0x7f0000001000', 'minor'],
    ]);
    expect(requests).toHaveLength(0);
    expect(s.metrics().devices.gpu0!.faults.deviceHandled).toEqual({ minor: 2 });
  });

  it('fails the transaction when the process cannot resolve the page', () => {
    const s = systemWith('vtd', 'seed-5.13', [{ id: 'gpu0', pasidBits: 20, managesOwnFaults: true }]);
    const { pasid } = bindProcess(s, 'gpu0', 0x1000, 'r');
    const tx = s.dma({ device: 'gpu0', pasid, address: USER_BASE, length: 8, access: 'write' });
    s.runUntilIdle();
    expect(tx.error).toBe('device-fault-failed');
  });
});
