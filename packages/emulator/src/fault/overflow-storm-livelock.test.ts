import { describe, expect, it } from 'vitest';
import { buildSystem } from '../config/build-system';
import { exportConfig } from '../config/export-config';
import type { SystemOptions } from '../config/system-config';
import { System } from '../system';
import { capture } from '../testing/fixtures';
import { type WorkloadRun } from '../workload/workload-runner';
import { LivelockDetector, describeLivelock, newLivelockFigures } from './livelock-detector';

const BASE = 0x100000000;

/**
 * `devices` PRI functions doing SVA on one VT-d IOMMU, each stream `concurrency` transactions of
 * `groupPages` fresh pages in flight (one page request group each).
 */
function svaDevices(
  devices: number,
  {
    depth,
    groupPages,
    count,
    concurrency,
  }: { depth: number; groupPages: number; count: number; concurrency: number },
  options: SystemOptions = {},
): { system: System; run: WorkloadRun } {
  const system = new System({ seed: 1, memoryFrames: 2 ** 20, ...options });
  system.addIommu({
    id: 'vtd0',
    family: 'vtd',
    profile: 'mainline',
    capabilities: { pageRequestQueueDepth: depth },
  });
  system.createProcess({ id: 'app' });
  const span = groupPages * count * 4096;
  system.mmap('app', { address: `0x${BASE.toString(16)}`, size: devices * span, prot: 'rw' });
  const streams = [];
  for (let i = 0; i < devices; i++) {
    system.addDevice({ id: `d${i}`, iommu: 'vtd0', ats: true, pri: { capacity: 2048 }, pasidBits: 20 });
    const { pasid } = system.svaBind(`d${i}`, 'app');
    streams.push({
      device: `d${i}`,
      pasid,
      pattern: 'sequential' as const,
      base: `0x${(BASE + i * span).toString(16)}`,
      workingSet: span,
      accessSize: groupPages * 4096,
      count,
      concurrency,
    });
  }
  return { system, run: system.runWorkload({ streams }) };
}

/**
 * Eight devices whose groups each fill a 16-entry PRQ, and a driver thread that takes 5 µs per entry
 * (a CPU it shares): a batch of 16 entries outlasts ~27 retries of every device left out, so nearly
 * every request is lost. At the default 200 ns per entry a queue this small drains faster than a device
 * retries, and does not storm.
 */
const STORM = { depth: 16, groupPages: 16, count: 8, concurrency: 2 } as const;
const SLOW_DRIVER: SystemOptions = { latency: { queueServiceNs: 5000 } };

describe('page request queue overflow storm: detected as a livelock, and the system stops', () => {
  it('a storm trips the detector once: fault.livelock with its figures, the metric, the workload ended by livelock', () => {
    const { system, run } = svaDevices(8, STORM, SLOW_DRIVER);
    const livelocks = capture(system, 'fault.livelock');
    const overflows = capture(system, 'iommu.queue-overflow');
    const responses = capture(system, 'fault.response');
    let last = '';
    system.onAny((e) => (last = e.kind));
    system.runUntilIdle(1_000_000);
    expect(livelocks).toHaveLength(1);
    const { seq: _seq, kind: _kind, timeNs, device, flow, ...event } = livelocks[0]!;
    expect(event).toMatchObject({ iommu: 'vtd0', queue: 'PRQ', bound: 256 });
    expect(event.lostPerUsefulFault).toBeGreaterThan(256);
    expect(event.lostRequests).toBeGreaterThan(256 * event.usefulFaults);
    expect(event.lostRequests).toBeLessThanOrEqual(event.windowRequests);
    // The storm is still in the driver's first batch: every lost request so far overflowed the queue (none
    // was discarded yet), and every refused last request but the one that tripped it was retried.
    expect(event.windowBatches).toBe(2);
    expect(event.lostRequests).toBe(overflows.length);
    expect(event.overflowRetries).toBe(responses.filter((r) => r.cause === 'queue-overflow').length);
    expect(overflows.at(-1)).toMatchObject({ device, flow, request: expect.any(Number) });
    expect(last).toBe('fault.livelock'); // nothing happened after it
    expect(system.livelock).toEqual({ ...event, atNs: timeNs });
    expect(system.metrics().system.faults.livelocks).toBe(1);
    expect(system.metrics().iommus.vtd0!.faults.livelocks).toBe(1);
    expect(run.endedBy).toBe('livelock');
    expect(run.finished).toBe(false);
    expect(run.progress.ended).toBeLessThan(run.progress.total);
  });

  it('nothing runs after it: the scheduler is empty and stays so, whatever is submitted', () => {
    const { system } = svaDevices(8, STORM, SLOW_DRIVER);
    system.runUntilIdle(1_000_000);
    const at = system.nowNs;
    expect(system.pendingEvents).toBe(0);
    const tx = system.dma({ device: 'd0', pasid: 1, address: BASE, length: 4096, access: 'read' });
    expect(system.runUntilIdle()).toBe(0);
    expect(tx.state).not.toBe('completed');
    expect(system.nowNs).toBe(at);
  });

  it('the same storm trips at the same request with the same figures (deterministic)', () => {
    const trip = () => {
      const { system } = svaDevices(8, STORM, SLOW_DRIVER);
      const [event] = capture(system, 'fault.livelock');
      const events = capture(system, 'pri.page-request');
      system.runUntilIdle(1_000_000);
      return { livelock: system.livelock, requests: events.length, event };
    };
    expect(trip()).toEqual(trip());
  });

  it('the run error names the livelock and its figures', () => {
    const { system } = svaDevices(8, STORM, SLOW_DRIVER);
    system.runUntilIdle(1_000_000);
    const { iommu, queue, atNs, ...figures } = system.livelock!;
    const sentence = describeLivelock(iommu, queue, atNs, figures);
    expect(sentence).toMatch(/^livelock: page request queue overflow storm on vtd0 \(PRQ\)/);
    expect(sentence).toContain(`${figures.lostRequests.toLocaleString('en-US')} of `);
    expect(sentence).toContain('past the bound of 256 (system option livelock.bound)');
  });

  it('the bound is a system option: 0 turns detection off, and the storm runs its course', () => {
    const { system, run } = svaDevices(8, STORM, { ...SLOW_DRIVER, livelock: { bound: 0 } });
    const livelocks = capture(system, 'fault.livelock');
    system.runUntilIdle();
    expect(livelocks).toHaveLength(0);
    expect(run.endedBy).toBe('finished');
    // This storm is finite, at the drain rate: 8 × 8 groups of 16 pages, each page asked for ~200 times.
    const faults = system.metrics().system.faults;
    expect(faults.pageRequests).toBeGreaterThan(100 * 8 * 8 * 16);
  });

  it('a bound other than the default is part of the system config: exported, and rebuilt from it', () => {
    const withIommu = (system: System) => {
      system.addIommu({ id: 'vtd0', family: 'vtd', profile: 'mainline' });
      return system;
    };
    const tuned = withIommu(new System({ livelock: { bound: 64 } }));
    expect(exportConfig(tuned).config.options).toMatchObject({ livelock: { bound: 64 } });
    expect(buildSystem(exportConfig(tuned).config).faults.livelockOptions).toEqual({ bound: 64 });
    expect(exportConfig(withIommu(new System())).config.options).not.toHaveProperty('livelock');
  });

  it('a heavy but healthy run is left alone: the PRQ oversubscribed 1.5×, overflowing, finishes', () => {
    // 12 devices × 8 groups of 32 pages in flight = 3072 requests for a 2048-entry PRQ, default bound.
    const { system, run } = svaDevices(12, { depth: 2048, groupPages: 32, count: 16, concurrency: 8 });
    const livelocks = capture(system, 'fault.livelock');
    system.runUntilIdle();
    expect(livelocks).toHaveLength(0);
    expect(run.endedBy).toBe('finished');
    expect(run.progress.completed).toBe(12 * 16);
    const faults = system.metrics().system.faults;
    expect(faults.queueOverflows['page-request']).toBeGreaterThan(10_000);
    expect(faults).not.toHaveProperty('livelocks');
  });

  it('the same run trips with a bound below its own ratio: the detector measures it, not luck', () => {
    const { system, run } = svaDevices(
      12,
      { depth: 2048, groupPages: 32, count: 16, concurrency: 8 },
      { livelock: { bound: 2 } },
    );
    system.runUntilIdle();
    expect(run.endedBy).toBe('livelock');
    expect(system.livelock!.lostPerUsefulFault).toBeGreaterThan(2);
  });
});

describe('the detector: lost page requests per useful fault over the driver’s last 8 batches', () => {
  const queue = { accepted: 0 };

  it('judges nothing before the driver has read a batch', () => {
    const detector = new LivelockDetector(4, queue);
    for (let i = 0; i < 100; i++) detector.refused();
    expect(detector.check(newLivelockFigures())).toBe(false);
    detector.batchBegins();
    expect(detector.check(newLivelockFigures())).toBe(true);
  });

  it('trips past the bound, once; discarded partials are lost, partials alone are no progress', () => {
    const detector = new LivelockDetector(4, queue);
    detector.batchBegins();
    detector.progressed(2);
    for (let i = 0; i < 6; i++) detector.refused();
    detector.retried();
    detector.discarded(2);
    const at = newLivelockFigures();
    expect(detector.check(at)).toBe(false); // 8 lost for 2 useful: 4, not past 4
    detector.refused();
    expect(detector.check(at)).toBe(true);
    expect(at).toMatchObject({
      lostRequests: 9,
      usefulFaults: 2,
      lostPerUsefulFault: 4.5,
      overflowRetries: 1,
    });
    expect(detector.check(newLivelockFigures())).toBe(false);
  });

  it('slides: losses older than 8 batches leave the window', () => {
    /** 50 lost in one batch, then `quiet` batches with one useful fault each. */
    const after = (quiet: number) => {
      const detector = new LivelockDetector(4, queue);
      detector.batchBegins();
      for (let i = 0; i < 50; i++) detector.refused();
      for (let batch = 0; batch < quiet; batch++) {
        detector.batchBegins();
        detector.progressed(1);
      }
      return detector.check(newLivelockFigures());
    };
    expect(after(7)).toBe(true); // the 50 are still in the window: 50 for 7
    expect(after(8)).toBe(false); // they left with the ninth batch
  });
});
