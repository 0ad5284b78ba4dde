/**
 * The recoverable fault path end to end in batch mode (as fast as the host runs, no pacing): page
 * requests from a PCIe PRI device, groups, the kernel SVA (BIND) handler, responses, retries and
 * completions. Each transaction touches 32 fresh pages, so each is one page request group of 32
 * faults. Measured before and after fault flows in the same run: the emulator without flows
 * (baseline-emulator.ts) is the baseline of the same work; then with each flow's anatomy record built
 * and handed to a listener, as a run's fault log does. Then every scenario preset, run to completion,
 * as DMA transactions per second against the hit-path DMA rate.
 */
import { newTranslation } from '../src/iommu/translation';
import { PERM_READ } from '../src/pagetable/permissions';
import { PRESETS, startPreset } from '../src/presets/presets';
import { System } from '../src/system';
import { ROUNDS, ROUND_MS, interleave, rateOf, reportRuns } from './report';
import { BEFORE_FLOWS, baselineSystem } from './baseline-emulator';

const PAGES_PER_TRANSACTION = 32;
const FAULTS = 200_000;

/** One batch run on the given emulator: page faults resolved per second of wall time. */
function faultRun(SystemClass: typeof System = System, records = false): { faultsPerSecond: number } {
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
  let ended = 0;
  if (records) system.on('flow.ended', () => ended++);
  const run = system.runWorkload({
    streams: [
      {
        device: 'nic0',
        pasid,
        pattern: 'sequential',
        base: '0x100000000',
        workingSet: 2 ** 32,
        accessSize: 4096 * PAGES_PER_TRANSACTION,
        count: FAULTS / PAGES_PER_TRANSACTION,
        concurrency: 64,
      },
    ],
  });
  const start = performance.now();
  system.runUntilIdle();
  const seconds = (performance.now() - start) / 1000;
  const faults = system.metrics().system.faults.pageRequests;
  if (faults !== FAULTS || !run.finished || (records && ended !== FAULTS))
    throw new Error(`fault benchmark: ${faults} faults, ${ended} flow records, finished ${run.finished}`);
  return { faultsPerSecond: faults / seconds };
}

/** Builds a system with 512 mapped pages and returns a measurement of its IOTLB-hit translation rate. */
function hitRate(): () => number {
  const system = new System({ seed: 1 });
  system.addIommu({ id: 'iommu0', family: 'vtd', profile: 'mainline' });
  system.addDevice({ id: 'dev0', iommu: 'iommu0' });
  system.createDomain({ id: 'dom0', iommu: 'iommu0', type: 'dma' });
  system.map('dom0', { iova: '0x100000', size: 512 * 4096, prot: 'rw' });
  system.attach('dev0', 'dom0');
  const iommu = system.iommu('iommu0');
  const device = system.device('dev0');
  const t = newTranslation();
  let i = 0;
  const hits = () => {
    for (let n = 0; n < 10_000; n++) iommu.translate(device, -1, 0x100 + (i++ & 511), PERM_READ, false, t);
  };
  return () => rateOf(hits, 10_000);
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
  const translations = hitRate();
  translations();
  reportRuns({
    name: 'recoverable-faults-vs-iotlb-hits',
    unit: 'faults/s',
    ...(await interleave(ROUNDS, () => faultRun().faultsPerSecond, translations)),
    better: 'higher',
    note: `${note}; baseline: IOTLB-hit translations/s (not the same work: how far a fault is from a hit)`,
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
    const baseline = hitPathDmaRate();
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
/** One-page DMA reads that hit the IOTLB: the fastest a transaction gets through the engine. */
function hitPathDmaRate(): number {
  const system = new System({ seed: 1 });
  system.addIommu({ id: 'iommu0', family: 'vtd', profile: 'mainline' });
  system.addDevice({ id: 'dev0', iommu: 'iommu0' });
  system.createDomain({ id: 'dom0', iommu: 'iommu0', type: 'dma' });
  system.map('dom0', { iova: '0x0', size: 256 * 4096, prot: 'rw' });
  system.attach('dev0', 'dom0');
  const device = system.device('dev0');
  // In batches of 1,000 in flight, as dma.bench.ts: 200,000 at once would measure a 200,000-deep event heap.
  const run = (count: number) => {
    for (let batch = 0; batch < count; batch += 1000) {
      for (let n = batch; n < batch + 1000; n++)
        system.submitDma({
          device,
          pasid: -1,
          page: n & 255,
          offset: 0,
          length: 64,
          access: 'read',
          privileged: false,
        });
      system.runUntilIdle();
    }
  };
  run(50_000);
  const start = performance.now();
  run(200_000);
  return 200_000 / ((performance.now() - start) / 1000);
}
