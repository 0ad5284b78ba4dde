/**
 * The recoverable fault path end to end in batch mode (as fast as the host runs, no pacing): page
 * requests from a PCIe PRI device, groups, the kernel SVA (BIND) handler, responses, retries and
 * completions. Each transaction touches 32 fresh pages, so each is one page request group of 32
 * faults. Measured before and after fault flows in the same run: the emulator without flows
 * (baseline-emulator.ts) is the baseline of the same work; then with each flow's anatomy record built
 * and handed to a listener, as a run's fault log does. Then every scenario preset, run to completion,
 * as DMA transactions per second against the hit-path DMA rate.
 */
import { PRESETS, startPreset } from '../src/presets/presets';
import { System } from '../src/system';
import { bytesAllocated } from './allocation';
import { ROUNDS, ROUND_MS, interleave, reportRuns } from './report';
import { BEFORE_FLOWS, baselineSystem } from './baseline-emulator';

const PAGES_PER_TRANSACTION = 32;
const FAULTS = 200_000;
/** The allocation figure samples the heap: a shorter run is enough for a stable per-fault mean. */
const ALLOCATION_FAULTS = 50_000;
/** The cost-growth figures: this many faults, spread over the devices. */
const SPREAD_FAULTS = 100_000;
/** The hit baselines' working set, in pages: within the device's ATC (64 entries, 4-way: DEFAULT_ATC). */
const HIT_PAGES = 32;

/**
 * A batch fault workload on the given emulator, built and ready: `pages` fresh pages per transaction (so
 * one page request group of that many faults each), `faults` in all. `run` runs it to the end, checks it
 * and returns the faults. The same DMA without the faults, for baselines (`run` returns the pages moved):
 * `resident`, over pages populated beforehand (every translation still walks: the DMA around a fault, for
 * the allocation figure); `hits`, over a populated working set of HIT_PAGES that stays in the device's
 * ATC, so every translation hits: the hit path doing the same DMA through the same workload runner.
 */
function faultWorkload(
  SystemClass: typeof System = System,
  records = false,
  pages = PAGES_PER_TRANSACTION,
  faults = FAULTS,
  memory: 'fresh' | 'resident' | 'hits' = 'fresh',
): { run: () => number; events: () => number } {
  const system = new SystemClass({ seed: 1, memoryFrames: 2 ** 22 });
  system.addIommu({
    id: 'vtd0',
    family: 'vtd',
    profile: 'mainline',
    capabilities: { pageRequestQueueDepth: 4096 },
  });
  system.addDevice({ id: 'nic0', iommu: 'vtd0', ats: true, pri: { capacity: 2048 }, pasidBits: 20 });
  system.createProcess({ id: 'app' });
  system.mmap('app', { address: '0x100000000', size: 2 ** 32, prot: 'rw' });
  const { pasid } = system.svaBind('nic0', 'app');
  const workingSet = memory === 'hits' ? Math.max(HIT_PAGES, pages) * 4096 : 2 ** 32;
  if (memory !== 'fresh') system.populate('app', '0x100000000', Math.min(workingSet, faults * 4096));
  let ended = 0;
  if (records) system.on('flow.ended', () => ended++);
  const workload = system.runWorkload({
    streams: [
      {
        device: 'nic0',
        pasid,
        pattern: 'sequential',
        base: '0x100000000',
        workingSet,
        accessSize: 4096 * pages,
        count: faults / pages,
        concurrency: 64,
      },
    ],
  });
  let events = 0;
  return {
    events: () => events,
    run: () => {
      events = system.runUntilIdle();
      const done = system.metrics().system.faults.pageRequests;
      if (memory !== 'fresh') {
        if (done !== 0 || !workload.finished) throw new Error(`${memory} workload: ${done} faults`);
        return workload.progress.completed * pages;
      }
      if (done !== faults || !workload.finished || (records && ended !== faults))
        throw new Error(
          `fault benchmark: ${done} faults, ${ended} flow records, finished ${workload.finished}`,
        );
      return done;
    },
  };
}

/** SPREAD_FAULTS single-page faults from `devices` PRI devices, each bound to its own process: faults/s. */
function spreadFaultRate(devices: number): number {
  const system = new System({ seed: 1, memoryFrames: 2 ** 22 });
  system.addIommu({
    id: 'vtd0',
    family: 'vtd',
    profile: 'mainline',
    capabilities: { pageRequestQueueDepth: 4096 },
  });
  const streams = [];
  for (let d = 0; d < devices; d++) {
    system.addDevice({ id: `dev${d}`, iommu: 'vtd0', ats: true, pri: { capacity: 64 }, pasidBits: 20 });
    system.createProcess({ id: `p${d}` });
    system.mmap(`p${d}`, { address: '0x100000000', size: 2 ** 30, prot: 'rw' });
    const { pasid } = system.svaBind(`dev${d}`, `p${d}`);
    streams.push({
      device: `dev${d}`,
      pasid,
      pattern: 'sequential' as const,
      base: '0x100000000',
      workingSet: 2 ** 30,
      accessSize: 4096,
      count: SPREAD_FAULTS / devices,
      // About 64 in flight in all (at least one per device: 1,000 at 1,000 devices).
      concurrency: Math.max(1, Math.floor(64 / devices)),
    });
  }
  // A workload holds at most 256 streams: several run side by side.
  const workloads = [];
  for (let i = 0; i < streams.length; i += 256)
    workloads.push(system.runWorkload({ streams: streams.slice(i, i + 256) }));
  const start = performance.now();
  system.runUntilIdle();
  const seconds = (performance.now() - start) / 1000;
  const faults = system.metrics().system.faults.pageRequests;
  if (faults !== SPREAD_FAULTS || !workloads.every((workload) => workload.finished))
    throw new Error(`spread fault benchmark: ${faults} faults over ${devices} devices`);
  return faults / seconds;
}

/**
 * One batch run on the given emulator: page faults resolved per second of wall time (for `memory` other
 * than fresh, pages moved per second), and the scheduler's events per page.
 */
function faultRun(
  SystemClass: typeof System = System,
  records = false,
  pages = PAGES_PER_TRANSACTION,
  memory: 'fresh' | 'hits' = 'fresh',
): { faultsPerSecond: number; eventsPerPage: number } {
  const { run, events } = faultWorkload(SystemClass, records, pages, FAULTS, memory);
  const start = performance.now();
  const faults = run();
  return { faultsPerSecond: faults / ((performance.now() - start) / 1000), eventsPerPage: events() / faults };
}

export async function benchFaults(): Promise<void> {
  const note = `${FAULTS.toLocaleString('en-US')} faults a run, ${PAGES_PER_TRANSACTION} per group`;
  const before = await baselineSystem();
  if ('missing' in before) console.log(`recoverable-faults: no before-flows figure: ${before.missing}`);
  else {
    // One unreported run of each warms the JIT; then the two emulators alternate.
    faultRun();
    faultRun(before.System);
    reportRuns({
      name: 'recoverable-faults',
      unit: 'faults/s',
      ...(await interleave(
        ROUNDS,
        () => faultRun().faultsPerSecond,
        () => faultRun(before.System).faultsPerSecond,
      )),
      better: 'higher',
      note: `${note}; after fault flows (no listener), baseline: the emulator before them (${BEFORE_FLOWS})`,
    });
    faultRun(System, true);
    reportRuns({
      name: 'recoverable-faults-with-flow-records',
      unit: 'faults/s',
      ...(await interleave(
        ROUNDS,
        () => faultRun(System, true).faultsPerSecond,
        () => faultRun(before.System).faultsPerSecond,
      )),
      better: 'higher',
      note: `${note}; every flow's anatomy record built and listened to (as a run's fault log), baseline: the emulator before flows (${BEFORE_FLOWS})`,
    });
  }
  // The goals, each against the hit path doing the same DMA (the same workload, device and access
  // size, over pages that are resident and in the device's ATC): one fault per group (random access, the
  // realistic case) against one-page DMA that hits; 32 per group against the pages per second of 32-page
  // DMA that hits.
  // Each run's scheduled events per DMA are kept for the figure after.
  const eventRuns: number[] = [];
  const hitEventRuns: number[] = [];
  const counted = (memory: 'fresh' | 'hits', into: number[]) => {
    const { faultsPerSecond, eventsPerPage } = faultRun(System, false, 1, memory);
    into.push(eventsPerPage);
    return faultsPerSecond;
  };
  faultRun(System, false, 1);
  faultRun(System, false, 1, 'hits');
  reportRuns({
    name: 'faults-1-per-group-vs-dma-hits',
    unit: 'faults/s',
    ...(await interleave(
      ROUNDS,
      () => counted('fresh', eventRuns),
      () => counted('hits', hitEventRuns),
    )),
    better: 'higher',
    note: `${FAULTS.toLocaleString('en-US')} faults a run, 1 per group (goal ≥ 0.6); baseline: the same one-page DMA over pages in the ATC, transactions/s`,
  });
  faultRun(System, false, PAGES_PER_TRANSACTION, 'hits');
  reportRuns({
    name: 'faults-32-per-group-vs-dma-hits',
    unit: 'faults/s',
    ...(await interleave(
      ROUNDS,
      () => faultRun().faultsPerSecond,
      () => faultRun(System, false, PAGES_PER_TRANSACTION, 'hits').faultsPerSecond,
    )),
    better: 'higher',
    note: `${note} (goal ≥ 2.5 M/s); baseline: the same 32-page DMA over pages in the ATC, pages/s`,
  });
  // Why the first goal is out of reach of this model: the scheduled events a faulting one-page DMA runs
  // (its request, the queue, the drain, the handler, the response, the retry) against the same DMA hitting.
  // A count, the same every run; each event costs the scheduler ~80 ns before any work (README, "Cost of a fault").
  reportRuns({
    name: 'faults-1-per-group-scheduled-events',
    unit: 'events/DMA',
    runs: eventRuns,
    baselineRuns: hitEventRuns,
    better: 'lower',
    note: 'scheduled events a one-page DMA runs when it faults (1 per group); baseline: the same DMA hitting in the ATC',
  });
  // How the per-fault cost grows with devices: the same 100,000 single-page faults spread over 1, 10, 100
  // and 1,000 PRI devices (each with its own process bound for SVA), against 1 device in the same round.
  const oneDevice = () => spreadFaultRate(1);
  oneDevice();
  for (const devices of [10, 100, 1000]) {
    spreadFaultRate(devices);
    reportRuns({
      name: `faults-1-per-group-${devices}-devices`,
      unit: 'faults/s',
      ...(await interleave(ROUNDS, () => spreadFaultRate(devices), oneDevice)),
      better: 'higher',
      note: `${SPREAD_FAULTS.toLocaleString('en-US')} faults a run over ${devices} devices on one IOMMU, 1 per group; baseline: the same faults from 1 device`,
    });
  }

  // Bytes allocated per fault, from the sampling heap profiler, over a whole run of one-page DMA that faults
  // once each (page tables the mm fault fills included), against the same workload over resident pages: the
  // DMA around the fault (the transaction, its request, the engine's map of them). The difference of each
  // round's pair is what the fault itself allocates: the goal (≤ 64 B) is about that.
  const allocationRound = async (resident: boolean) => {
    const { run } = faultWorkload(System, false, 1, ALLOCATION_FAULTS, resident ? 'resident' : 'fresh');
    let done = 0;
    const bytes = await bytesAllocated(() => (done = run()));
    return bytes / done;
  };
  await allocationRound(false);
  await allocationRound(true);
  const allocation = await interleave(
    ROUNDS,
    () => allocationRound(false),
    () => allocationRound(true),
  );
  reportRuns({
    name: 'fault-allocated-bytes',
    unit: 'B/fault',
    ...allocation,
    better: 'lower',
    note: `${ALLOCATION_FAULTS.toLocaleString('en-US')} one-page DMA a run, each faulting once (1 per group); baseline: the same DMA over resident pages, bytes per transaction`,
  });
  reportRuns({
    name: 'fault-own-allocated-bytes',
    unit: 'B/fault',
    runs: allocation.runs.map((bytes, round) => bytes - allocation.baselineRuns[round]!),
    baselineRuns: allocation.baselineRuns,
    better: 'lower',
    note: "what a fault adds to its DMA, each round's faulting run less its resident run (goal ≤ 64 B); baseline: the resident DMA's bytes per transaction",
  });

  // Each preset to completion, again and again for ROUND_MS (one run takes a few ms): transactions per
  // second of wall time. A round runs every preset, then the hit-path DMA rate; the first is a warm-up.
  const presetRates = new Map<string, number[]>(PRESETS.map((preset) => [preset.id, []]));
  const faultCounts = new Map<string, number>();
  const dmaBaseline: number[] = [];
  for (let round = -1; round < ROUNDS; round++) {
    for (const preset of PRESETS) {
      let transactions = 0;
      let milliseconds = 0;
      while (milliseconds < ROUND_MS) {
        const run = startPreset(preset);
        const start = performance.now();
        run.system.runUntilIdle();
        milliseconds += performance.now() - start;
        transactions += run.workload.progress.ended;
        const { faults } = run.system.metrics().system;
        faultCounts.set(preset.id, faults.pageRequests + faults.stalls);
      }
      if (round >= 0) presetRates.get(preset.id)!.push(transactions / (milliseconds / 1000));
    }
    const baseline = hitPathDmaRate(1);
    if (round >= 0) dmaBaseline.push(baseline);
  }
  for (const preset of PRESETS)
    reportRuns({
      name: `preset-${preset.id}`,
      unit: 'tx/s',
      runs: presetRates.get(preset.id)!,
      baselineRuns: dmaBaseline,
      better: 'higher',
      note: `${faultCounts.get(preset.id)} recoverable faults a run; baseline: one-page DMA reads that hit the IOTLB`,
    });
}
/**
 * DMA reads of `pages` pages that hit the IOTLB: the fastest a transaction gets through the engine. Returns
 * the work of `count` transactions, ready to run (the system built, warm).
 */
function hitPathDma(pages: number, count: number): () => void {
  const system = new System({ seed: 1 });
  system.addIommu({ id: 'iommu0', family: 'vtd', profile: 'mainline' });
  system.addDevice({ id: 'dev0', iommu: 'iommu0' });
  system.createDomain({ id: 'dom0', iommu: 'iommu0', type: 'dma' });
  system.map('dom0', { iova: '0x0', size: 256 * 4096, prot: 'rw' });
  system.attach('dev0', 'dom0');
  const device = system.device('dev0');
  // In batches of 1,000 in flight, as dma.bench.ts: 200,000 at once would measure a 200,000-deep event heap.
  const run = (transactions: number) => {
    for (let batch = 0; batch < transactions; batch += 1000) {
      for (let n = batch; n < batch + 1000; n++)
        system.submitDma({
          device,
          pasid: -1,
          page: (n * pages) & 255,
          offset: 0,
          length: pages === 1 ? 64 : pages * 4096,
          access: 'read',
          privileged: false,
        });
      system.runUntilIdle();
    }
  };
  run(50_000 / pages);
  return () => run(count);
}

/** Pages per second of `pages`-page DMA that hits (transactions per second for one page). */
function hitPathDmaRate(pages = 1): number {
  const count = 200_000 / pages;
  const run = hitPathDma(pages, count);
  const start = performance.now();
  run();
  return (count * pages) / ((performance.now() - start) / 1000);
}
