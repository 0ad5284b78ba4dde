import { describe, expect, it } from 'vitest';
import { System } from '../system';
import { USER_BASE, capture } from '../testing/fixtures';

function sva(depth: number, family: 'vtd' | 'smmuv3' = 'vtd') {
  const s = new System({ seed: 1, memoryFrames: 4096 });
  s.addIommu({
    id: 'iommu0',
    family,
    profile: 'proposal',
    capabilities: { pageRequestQueueDepth: depth, faultQueueDepth: depth },
  });
  for (const id of ['a', 'b', 'c']) {
    s.addDevice({ id, iommu: 'iommu0', ats: true, pri: { capacity: 8 }, pasidBits: 8 });
    s.enableFeature(id, 'IOPF');
    s.enableFeature(id, 'SVA');
  }
  s.createProcess({ id: 'app' });
  s.mmap('app', { address: `0x${USER_BASE.toString(16)}`, size: 64 * 4096, prot: 'rw' });
  for (const id of ['a', 'b', 'c']) s.svaBind(id, 'app');
  return s;
}

describe('bounded hardware queues (reference §2, §7)', () => {
  it('a full page request queue drops requests and sets overflow; the hardware answers a dropped last request with Success [?]', () => {
    const s = sva(4);
    const overflows = capture(s, 'iommu.queue-overflow');
    const responses = capture(s, 'fault.response');
    const txs = ['a', 'b', 'c'].map((device, i) =>
      s.dma({ device, pasid: 1, address: USER_BASE + i * 8 * 4096, length: 4 * 4096, access: 'read' }),
    );
    s.runUntilIdle();
    expect(overflows.length).toBeGreaterThan(0);
    expect(overflows.every((o) => o.queue === 'PRQ')).toBe(true);
    const auto = responses.filter((r) => r.cause === 'queue-overflow');
    expect(auto.length).toBe(overflows.filter((o) => o.lastRequest).length);
    expect(auto.every((r) => r.code === 'SUCCESS')).toBe(true);
    // The device retries after the automatic Success, so every transaction still completes.
    expect(txs.map((tx) => tx.state)).toEqual(['completed', 'completed', 'completed']);
    const queue = s.metrics().queues.iommu0!.pageRequest;
    expect(queue).toMatchObject({ depth: 4, max: 4, overflow: false });
    expect(queue.refused).toBe(overflows.length);
  });

  it('after an overflow the driver drains the queue and discards all partial requests (iopf_queue_discard_partial)', () => {
    const s = sva(4);
    const discarded = capture(s, 'iommu.partials-discarded');
    ['a', 'b', 'c'].forEach((device, i) =>
      s.dma({ device, pasid: 1, address: USER_BASE + i * 8 * 4096, length: 4 * 4096, access: 'read' }),
    );
    s.runUntilIdle();
    expect(discarded.length).toBeGreaterThan(0);
    expect(s.metrics().iommus.iommu0!.faults.queueOverflows['page-request']).toBeGreaterThan(0);
  });

  it('records queue occupancy over time for charts', () => {
    const s = sva(64);
    ['a', 'b', 'c'].forEach((device, i) =>
      s.dma({ device, pasid: 1, address: USER_BASE + i * 8 * 4096, length: 4 * 4096, access: 'read' }),
    );
    s.runUntilIdle();
    const { occupancy, max } = s.metrics().queues.iommu0!.pageRequest;
    expect(max).toBe(12);
    expect(occupancy.length).toBeGreaterThan(2);
    for (let i = 1; i < occupancy.length; i++)
      expect(occupancy[i]![0]).toBeGreaterThanOrEqual(occupancy[i - 1]![0]);
    expect(occupancy.at(-1)![1]).toBe(0);
  });

  it('a full fault queue loses unrecoverable records (VT-d primary fault overflow)', () => {
    const s = new System({ seed: 1, memoryFrames: 4096 });
    s.addIommu({ id: 'iommu0', family: 'vtd', profile: 'mainline', capabilities: { faultQueueDepth: 2 } });
    s.addDevice({ id: 'd', iommu: 'iommu0' });
    s.createDomain({ id: 'dom', iommu: 'iommu0', type: 'dma' });
    s.attach('d', 'dom');
    const records = capture(s, 'fault.unrecoverable');
    for (let i = 0; i < 5; i++) s.dma({ device: 'd', address: i * 4096, length: 8, access: 'read' });
    s.runUntilIdle();
    expect(records.map((r) => r.lost)).toEqual([false, false, true, true, true]);
    expect(records[2]!.recorded).toBe(false);
    expect(s.metrics().queues.iommu0!.fault.refused).toBe(3);
  });

  it('a stall whose event cannot be queued is terminated [?]', () => {
    const s = new System({ seed: 1, memoryFrames: 4096 });
    s.addIommu({ id: 'iommu0', family: 'smmuv3', profile: 'mainline', capabilities: { faultQueueDepth: 1 } });
    s.addDevice({ id: 'acc', iommu: 'iommu0', kind: 'platform', stall: true, pasidBits: 8 });
    s.createProcess({ id: 'app' });
    s.mmap('app', { address: `0x${USER_BASE.toString(16)}`, size: 8 * 4096, prot: 'rw' });
    s.svaBind('acc', 'app');
    const txs = [0, 1, 2].map((i) =>
      s.dma({ device: 'acc', pasid: 1, address: USER_BASE + i * 4096, length: 8, access: 'read' }),
    );
    s.runUntilIdle();
    expect(txs.map((tx) => tx.error)).toEqual([null, 'stall-terminated', 'stall-terminated']);
  });
});
