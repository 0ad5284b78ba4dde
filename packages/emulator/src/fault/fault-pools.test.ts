/**
 * The fault path reuses its page requests, bursts, outstanding groups, iopf groups and PRI fault flows (sim/pool.ts):
 * whatever way a fault ends (answered, dropped by a full queue, discarded as a partial, flushed by a
 * detach or a reset), what it held goes back to its pool, and a reused object carries nothing of the
 * fault before. The preset traces (presets/preset-traces.test.ts) show the reuse changes no event.
 */
import { describe, expect, it } from 'vitest';
import { System } from '../system';
import { capture, stepUntil } from '../testing/fixtures';

const BASE = '0x100000000';

function priSystem(queueDepth: number, devices = 1): System {
  const system = new System({ seed: 1, memoryFrames: 2 ** 18 });
  system.addIommu({
    id: 'vtd0',
    family: 'vtd',
    profile: 'mainline',
    capabilities: { pageRequestQueueDepth: queueDepth },
  });
  for (let d = 0; d < devices; d++) {
    system.addDevice({ id: `nic${d}`, iommu: 'vtd0', ats: true, pri: { capacity: 64 }, pasidBits: 20 });
    system.createProcess({ id: `p${d}` });
    system.mmap(`p${d}`, { address: BASE, size: 2 ** 28, prot: 'rw' });
  }
  return system;
}

function faultStream(system: System, device: string, pages: number, count: number, concurrency: number) {
  const { pasid } = system.svaBind(device, `p${device.slice(3)}`);
  return {
    device,
    pasid,
    pattern: 'sequential' as const,
    base: BASE,
    workingSet: 2 ** 28,
    accessSize: 4096 * pages,
    count,
    concurrency,
  };
}

function inUse(system: System): Record<string, number> {
  return Object.fromEntries(Object.entries(system.faults.poolUse()).map(([name, use]) => [name, use.inUse]));
}

describe('the fault path reuses what a fault is made of, and nothing leaks', () => {
  it('2 000 faults, 4 in flight, are served by a handful of pooled objects, all free again at the end', () => {
    const system = priSystem(256);
    const run = system.runWorkload({ streams: [faultStream(system, 'nic0', 1, 2000, 4)] });
    system.runUntilIdle();
    expect(run.finished).toBe(true);
    expect(system.metrics().system.faults.pageRequests).toBe(2000);
    const use = system.faults.poolUse();
    for (const [name, { inUse: held, size }] of Object.entries(use)) {
      expect(held, name).toBe(0);
      expect(size, name).toBeLessThanOrEqual(8);
      expect(size, name).toBeGreaterThan(0);
    }
  });

  it('overflowing queues, discarded partials, a detach and a reset in the middle all give their objects back', () => {
    // 32-page groups from 4 devices into a 16-entry queue: overflows, automatic answers, discarded partials.
    const system = priSystem(16, 4);
    const streams = [0, 1, 2, 3].map((d) => faultStream(system, `nic${d}`, 32, 8, 2));
    const run = system.runWorkload({ streams });
    const discarded = capture(system, 'iommu.partials-discarded');
    // Four groups built: the others are partials, in the queue or on the wire when the flushes come.
    expect(stepUntil(system, () => system.metrics().system.faults.groups >= 4)).toBe(true);
    system.svaUnbind('nic1', 'p1');
    system.resetDevice('nic2');
    system.runUntilIdle();
    expect(run.finished).toBe(true);
    const { outcomes, queueOverflows } = system.metrics().system.faults;
    expect(queueOverflows['page-request']).toBeGreaterThan(0);
    expect(outcomes['queue-overflow:SUCCESS']).toBeGreaterThan(0);
    expect(outcomes['detach:INVALID']).toBe(1);
    expect(outcomes['reset:INVALID']).toBe(1);
    expect(discarded.length).toBeGreaterThan(0);
    expect(inUse(system)).toEqual({
      'page requests': 0,
      bursts: 0,
      'outstanding groups': 0,
      'iopf groups': 0,
      'fault flows': 0,
    });
  });

  it('a group reused after a 32-fault group holds only its own request', () => {
    const system = priSystem(4096);
    system.runWorkload({ streams: [faultStream(system, 'nic0', 32, 4, 1)] });
    system.runUntilIdle();
    const groups = capture(system, 'fault.group');
    const flows = capture(system, 'flow.ended');
    const seqs = new Set<number>();
    system.mmap('p0', { address: '0x200000000', size: 2 ** 20, prot: 'rw' });
    system.runWorkload({
      streams: [{ ...faultStream(system, 'nic0', 1, 16, 1), base: '0x200000000', workingSet: 2 ** 20 }],
    });
    system.runUntilIdle();
    expect(groups).toHaveLength(16);
    for (const group of groups) {
      expect(group.faults).toBe(1);
      expect(group.requests).toHaveLength(1);
      seqs.add(group.requests[0]!);
      expect(group.addresses[0]!.startsWith('0x2000')).toBe(true);
    }
    expect(seqs.size).toBe(16);
    expect(flows).toHaveLength(16);
    for (const flow of flows) {
      expect(flow.outcome).toBe('resumed');
      expect(flow.code).toBe('SUCCESS');
      expect(flow.handlerCosts).not.toBeNull();
    }
  });
});
