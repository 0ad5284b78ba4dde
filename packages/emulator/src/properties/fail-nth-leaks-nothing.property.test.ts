/**
 * Every allocation failure of a scenario, one at a time, as tools/testing/selftests/iommu/iommufd_fail_nth.c
 * walks every error path of its ioctls: a clean run counts the allocations of each fail-nth kind, then for
 * every kind and every n from 1 to that count the scenario runs again with its nth allocation failing. Each
 * run must end (runUntilIdle returns, every transaction ends) and leave nothing behind once torn down: no
 * pending group, no partial, no client waiting, every pooled object back, no PASID, no domain, no bond,
 * no IOPF reference, no iommufd object.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Transaction } from '../dma/transaction';
import { isEmulatorError } from '../errors';
import type { FailNthKind } from '../injection/fail-nth';
import { IOMMU_HWPT_ALLOC, decodePgfaults, hwptPageResponse } from '../iommufd/uapi';
import type { KernelProfileName } from '../profile/kernel-profile';
import { System } from '../system';
import { USER_BASE } from '../testing/fixtures';

const PAGE = 4096;
const hex = (address: number | bigint) => `0x${address.toString(16)}`;
/** Where the VMM backs a faulting IOVA: 16 MiB above it. */
const PHYS_OFFSET = 0x1000000n;

interface Scenario {
  family: 'vtd' | 'smmuv3';
  profile: KernelProfileName;
  seed: number;
  /** Pages each faulting DMA touches: partials and a last per PRG on PCIe, one stall a page on SMMUv3. */
  pages: number;
  /** Faulting DMAs per SVA bond. */
  dmas: number;
}

/** Runs the call; an EmulatorError (a refusal, an injected failure) is what a careful caller survives. */
function attempt<T>(call: () => T): T | undefined {
  try {
    return call();
  } catch (error) {
    if (!isEmulatorError(error)) throw error;
    return undefined;
  }
}

/**
 * A few devices: two with SVA bonds (one process bound to both), one on a DMA domain, and under mainline
 * one a VMM drives through iommufd (a paging HWPT with a fault object, answered after mapping the page).
 * Faulting DMA, then every bond unbound, every attachment detached, every object destroyed, every
 * process gone.
 */
function run(scenario: Scenario, failing?: { kind: FailNthKind; n: number }) {
  const { family, profile } = scenario;
  const s = new System({ seed: scenario.seed, memoryFrames: 2 ** 14 });
  if (failing) s.failNth(failing);
  s.addIommu({ id: 'io', family, profile });
  const faulting =
    family === 'vtd'
      ? { ats: true, pri: { capacity: 16 }, pasidBits: 8 }
      : { kind: 'platform' as const, stall: true, pasidBits: 8 };
  for (const id of ['a', 'b', 'v']) s.addDevice({ id, iommu: 'io', ...faulting });
  s.addDevice({ id: 'c', iommu: 'io', ...(family === 'vtd' ? {} : { kind: 'platform' as const }) });
  if (s.iommu('io').profile.featureCalls)
    for (const id of ['a', 'b']) for (const feature of ['IOPF', 'SVA'] as const) s.enableFeature(id, feature);
  for (const process of ['p0', 'p1']) {
    s.createProcess({ id: process });
    s.mmap(process, { address: hex(USER_BASE), size: 64 * PAGE, prot: 'rw' });
  }
  const transactions: Transaction[] = [];
  const dma = (device: string, address: number, pages: number, pasid?: number) =>
    transactions.push(
      s.dma({
        device,
        address,
        length: pages * PAGE,
        access: 'write',
        ...(pasid === undefined ? {} : { pasid }),
      }),
    );

  const bonds: [string, string][] = [
    ['a', 'p0'],
    ['b', 'p1'],
    ['b', 'p0'],
  ];
  const bound = bonds.flatMap(([device, process]) => {
    const bond = attempt(() => s.svaBind(device, process));
    return bond ? [{ device, process, pasid: bond.pasid }] : [];
  });
  const domain = attempt(() => s.createDomain({ id: 'd', iommu: 'io', type: 'dma' }));
  if (domain) {
    s.map('d', { iova: '0x0', size: 16 * PAGE, prot: 'rw' });
    s.attach('c', 'd');
  }
  const vmm = s.iommu('io').profile.iommufd ? iommufdVmm(s) : undefined;

  for (const { device, pasid } of bound)
    for (let i = 0; i < scenario.dmas; i++)
      dma(device, USER_BASE + (pasid * 16 + i * scenario.pages) * PAGE, scenario.pages, pasid);
  for (let i = 0; i < scenario.dmas; i++) dma('v', (32 + i * scenario.pages) * PAGE, scenario.pages);
  dma('c', 0, 2);
  dma('c', 64 * PAGE, 1); // unmapped: an unrecoverable fault, no allocation
  s.runUntilIdle();
  const ended = transactions.every((tx) => tx.finishedNs >= 0) && s.transactionsInFlight === 0;

  for (const { device, process } of bound) s.svaUnbind(device, process);
  vmm?.tearDown();
  if (domain) {
    s.detach('c');
    s.destroyDomain('d');
  }
  for (const process of ['p0', 'p1']) s.exitProcess(process);
  s.runUntilIdle();
  return { s, ended };
}

/** A VMM: iommufd objects for device v, and a reader that maps each faulting page and answers SUCCESS. */
function iommufdVmm(s: System) {
  const fd = s.iommufd;
  const { devId } = fd.bind('v');
  const { ioasId } = fd.ioasAlloc();
  const { faultId } = fd.faultQueueAlloc();
  const queue = fd.faultQueue(faultId);
  const hwpt = attempt(() =>
    fd.hwptAlloc({ devId, ptId: ioasId, flags: IOMMU_HWPT_ALLOC.FAULT_ID_VALID, faultId }),
  );
  if (hwpt) fd.attach({ devId, ptId: hwpt.hwptId });
  const soon = () => s.schedule(s.nowNs + 1000, read);
  const read = () => {
    // A read whose response slot cannot be allocated fails; the VMM tries again, as poll still says EPOLLIN.
    const bytes = attempt(() => queue.read(64 * 40));
    if (bytes === undefined) return soon();
    const records = decodePgfaults(bytes);
    for (const record of records)
      fd.ioasMap(ioasId, {
        iova: hex(record.addr),
        size: PAGE,
        phys: hex(record.addr + PHYS_OFFSET),
        prot: 'rw',
      });
    const cookies = [...new Set(records.map((record) => record.cookie))];
    const answers = new Uint8Array(cookies.length * 8);
    cookies.forEach((cookie, i) => answers.set(hwptPageResponse({ cookie, code: 'SUCCESS' }), i * 8));
    if (cookies.length > 0) queue.write(answers);
    if (queue.readable() > 0) soon();
  };
  queue.onReadable = soon;
  return {
    tearDown() {
      if (hwpt) {
        fd.detach({ devId });
        fd.destroy(hwpt.hwptId);
      }
      fd.destroy(faultId);
      fd.destroy(ioasId);
      fd.unbind(devId);
    },
  };
}

/** Everything the scenario made is gone, and nothing is left waiting. */
function expectNothingLeft(s: System, label: string): void {
  expect(s.pendingEvents, label).toBe(0);
  for (const [pool, use] of Object.entries(s.faults.poolUse()))
    expect(use.inUse, `${label}: ${pool}`).toBe(0);
  expect(s.faults.awaitingClient.size, label).toBe(0);
  for (const device of s.devices.values()) {
    const state = s.faults.faultState(device);
    expect(state.partial, `${label}: partials of ${device.id}`).toHaveLength(0);
    expect(state.pendingInOrder(), `${label}: pending groups of ${device.id}`).toHaveLength(0);
    expect(state.requester.outstanding, `${label}: credits of ${device.id}`).toBe(0);
    expect([device.bonds.size, device.iopfUsers, device.pasidDomains.size], `${label}: ${device.id}`).toEqual(
      [0, 0, 0],
    );
  }
  for (const process of s.processes.values())
    expect([process.pasid, process.svaBonds], `${label}: ${process.id}`).toEqual([undefined, 0]);
  expect(
    [...s.allDomains()].map((domain) => domain.id),
    label,
  ).toEqual([]);
  expect(s.iommufd.describe(), label).toEqual([]);
  // Every PASID went back: the next process to bind gets the first one again.
  s.clearFailNth();
  s.createProcess({ id: 'after' });
  const bond = attempt(() => s.svaBind('a', 'after'));
  expect(bond?.pasid, label).toBe(1);
}

const platforms: Pick<Scenario, 'family' | 'profile'>[] = [
  { family: 'vtd', profile: 'mainline' },
  { family: 'vtd', profile: 'seed-5.13' },
  { family: 'smmuv3', profile: 'mainline' },
  { family: 'smmuv3', profile: 'seed-5.13' },
];

const scenarios: fc.Arbitrary<Scenario> = fc
  .record({
    platform: fc.constantFrom(...platforms),
    seed: fc.integer({ min: 1, max: 1000 }),
    pages: fc.integer({ min: 1, max: 4 }),
    dmas: fc.integer({ min: 1, max: 2 }),
  })
  .map(({ platform, ...rest }) => ({ ...platform, ...rest }));

describe('fail-nth over every allocation of a scenario (iommufd_fail_nth.c)', () => {
  it('every run ends and, torn down, leaves nothing allocated, whichever allocation failed', () => {
    fc.assert(
      fc.property(scenarios, (scenario) => {
        const { family, profile } = scenario;
        const clean = run(scenario);
        expect(clean.ended).toBe(true);
        const counts = clean.s.failNthCounters();
        // The scenario exercises every kind its profile has (no iommufd, so no fault object, under v5.13).
        for (const { kind, allocations } of counts)
          if (kind !== 'fault-queue-slot' || profile === 'mainline')
            expect(allocations, `${family} ${profile} ${kind}`).toBeGreaterThan(0);
        expectNothingLeft(clean.s, 'clean run');
        for (const { kind, allocations } of counts) {
          for (let n = 1; n <= allocations; n++) {
            const label = `${family} ${profile} ${kind} n=${n}`;
            const { s, ended } = run(scenario, { kind, n });
            expect(ended, label).toBe(true);
            const counter = s.failNthCounters().find((c) => c.kind === kind)!;
            // Reached, the nth allocation failed; a failure earlier on can make a later one never happen.
            if (counter.allocations >= n) expect(counter.failed, label).toBe(1);
            expectNothingLeft(s, label);
          }
        }
      }),
      { numRuns: 12 },
    );
  });
});
