/**
 * Property: reusing what faults are made of (sim/pool.ts: page requests, bursts, groups, PRI flows) changes
 * nothing. The same generated operations (maps, unmaps, attaches, detaches, DMA, process changes) over SVA
 * with PRI, multi-page groups through a small page request queue (overflows, discarded partials), and a
 * function reset with faults in flight give the same event trace and metrics whether released objects are
 * handed out again or never reused (every fault then gets fresh objects, as before the pools).
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildSystem } from '../config/build-system';
import type { SystemConfig } from '../config/system-config';
import { Pool, type Pooled } from '../sim/pool';
import { type Op, type World, ReferenceModel, opArbitrary, runAndCheck } from './harness';

function config(seed: number): SystemConfig {
  return {
    version: 1,
    options: { seed, memoryFrames: 8192 },
    iommus: [
      {
        id: 'vtd',
        family: 'vtd',
        profile: 'mainline',
        capabilities: { pageRequestQueueDepth: 8, iotlb: { entries: 16, ways: 4, replacement: 'random' } },
      },
    ],
    devices: [
      { id: 'nic', iommu: 'vtd', ats: true, pri: { capacity: 12 }, pasidBits: 8 },
      { id: 'nic2', iommu: 'vtd', ats: true, pri: { capacity: 12 }, pasidBits: 8 },
      { id: 'plain', iommu: 'vtd', pasidBits: 8 },
    ],
    processes: [{ id: 'app', vmas: [{ address: '0x7f0000000000', size: 256 * 4096, prot: 'rw' }] }],
    domains: [{ id: 'a', iommu: 'vtd', type: 'dma' }],
    attachments: [{ device: 'plain', domain: 'a' }],
    bindings: [
      { device: 'nic', process: 'app' },
      { device: 'nic2', process: 'app' },
    ],
  };
}

const WORLD: World = {
  devices: ['nic', 'plain'],
  domains: ['a'],
  pasids: [null, 1],
  pages: 16,
  userBase: 0x7f0000000,
};

function trace(seed: number, ops: Op[], resetAfter: number): string {
  const system = buildSystem(config(seed));
  const hash = createHash('sha256');
  system.onAny((event) => hash.update(JSON.stringify(event)));
  const model = new ReferenceModel();
  model.attach('plain', null, 'a');
  runAndCheck(system, WORLD, model, ops);
  const stream = (device: string) => ({
    device,
    pasid: system.device(device).pasidDomains.keys().next().value ?? 1,
    pattern: 'random' as const,
    base: '0x7f0000000000',
    workingSet: 256 * 4096,
    accessSize: 4 * 4096,
    count: 30,
    concurrency: 3,
  });
  system.runWorkload({ streams: [stream('nic'), stream('nic2')] });
  for (let i = 0; i < resetAfter && system.step(); i++);
  system.resetDevice('nic2');
  system.runUntilIdle();
  hash.update(JSON.stringify(system.metrics()));
  return hash.digest('hex');
}

/** Released objects are marked free (so a double release still throws) but never handed out again. */
function withoutReuse<T>(work: () => T): T {
  const spy = vi.spyOn(Pool.prototype, 'release').mockImplementation(function (this: Pool<Pooled>, item) {
    if (item.free) throw new Error(`${this.name}: an object was released twice`);
    item.free = true;
  });
  try {
    return work();
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('property: the fault path’s reuse of its objects changes no event and no metric', () => {
  it('the same trace with reuse and without, for generated operations, overflows and a reset in flight', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(opArbitrary(WORLD), { minLength: 10, maxLength: 60 }),
        fc.integer({ min: 0, max: 3000 }),
        (seed, ops, resetAfter) => {
          expect(trace(seed, ops, resetAfter)).toBe(withoutReuse(() => trace(seed, ops, resetAfter)));
        },
      ),
      { numRuns: 40, seed: 0x2b },
    );
  });

  it('the check can fail: without reuse the pools make a new object for every fault', () => {
    const made = (reuse: boolean) => {
      const system = buildSystem(config(1));
      system.runWorkload({
        streams: [
          {
            device: 'nic',
            pasid: 1,
            pattern: 'sequential',
            base: '0x7f0000000000',
            workingSet: 256 * 4096,
            count: 100,
            concurrency: 2,
          },
        ],
      });
      const go = () => system.runUntilIdle();
      if (reuse) go();
      else withoutReuse(go);
      return system.faults.poolUse()['page requests']!.size;
    };
    expect(made(true)).toBeLessThanOrEqual(4);
    expect(made(false)).toBeGreaterThanOrEqual(100);
  });
});
