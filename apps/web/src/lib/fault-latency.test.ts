import { describe, expect, it } from 'vitest';
import { FaultLatencyTracker } from './fault-latency';
import type { WireEvent } from '@iommu-lab/client';

let seq = 0;
const at = (timeNs: number, fields: Record<string, unknown>) =>
  ({ seq: ++seq, timeNs, ...fields }) as WireEvent;

describe('FaultLatencyTracker', () => {
  it('times a page request group from its first request to its response', () => {
    const tracker = new FaultLatencyTracker();
    expect(tracker.observe(at(100, { kind: 'pri.page-request', request: 1 }))).toBeNull();
    expect(tracker.observe(at(300, { kind: 'pri.page-request', request: 2 }))).toBeNull();
    expect(tracker.observe(at(950, { kind: 'fault.group', group: 1, requests: [1, 2] }))).toBeNull();
    expect(tracker.observe(at(6100, { kind: 'fault.response', group: 1 }))).toBe(6000);
    // Answered once only.
    expect(tracker.observe(at(7000, { kind: 'fault.response', group: 1 }))).toBeNull();
  });

  it('times a group from the group itself when its requests were filtered out', () => {
    const tracker = new FaultLatencyTracker();
    tracker.observe(at(1000, { kind: 'fault.group', group: 9, requests: [40] }));
    expect(tracker.observe(at(5000, { kind: 'fault.response', group: 9 }))).toBe(4000);
  });

  it('times a stall to its resume, per IOMMU and stall tag', () => {
    const tracker = new FaultLatencyTracker();
    tracker.observe(at(10, { kind: 'stall.stalled', iommu: 'smmu0', stag: 3 }));
    tracker.observe(at(20, { kind: 'stall.stalled', iommu: 'smmu1', stag: 3 }));
    expect(tracker.observe(at(510, { kind: 'stall.resume', iommu: 'smmu0', stag: 3 }))).toBe(500);
    expect(tracker.observe(at(1020, { kind: 'stall.resume', iommu: 'smmu1', stag: 3 }))).toBe(1000);
  });

  it('ignores responses without a group (queue overflow answers)', () => {
    expect(new FaultLatencyTracker().observe(at(5, { kind: 'fault.response', group: null }))).toBeNull();
  });
});
