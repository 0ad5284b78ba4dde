/**
 * The recoverable fault path end to end in batch mode (as fast as the host runs, no pacing): page
 * requests from a PCIe PRI device, groups, the kernel SVA (BIND) handler, responses, retries and
 * completions. Each transaction touches 32 fresh pages, so each is one page request group of 32
 * faults. Printed with its ratio to the IOTLB-hit translation rate measured in the same run. Then every
 * scenario preset, run to completion, as DMA transactions per second against the hit-path DMA rate.
 */
import { Bench } from 'tinybench';
import { newTranslation } from '../src/iommu/translation';
import { PERM_READ } from '../src/pagetable/permissions';
import { PRESETS, startPreset } from '../src/presets/presets';
import { System } from '../src/system';
import { opsPerSecond, report } from './report';

const PAGES_PER_TRANSACTION = 32;
const FAULTS = 200_000;

/** One batch run: returns page faults resolved per second of wall time. */
function faultRun(): { faultsPerSecond: number } {
  const system = new System({ seed: 1, memoryFrames: 2 ** 22 });
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
  if (faults !== FAULTS || !run.finished)
    throw new Error(`fault benchmark: ${faults} faults, finished ${run.finished}`);
  return { faultsPerSecond: faults / seconds };
}

function hitRate(): number {
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
  const bench = new Bench({ time: 1000, warmupTime: 200 });
  bench.add('hit', () => {
    for (let n = 0; n < 10_000; n++) iommu.translate(device, -1, 0x100 + (i++ & 511), PERM_READ, false, t);
  });
  return bench.runSync().length > 0 ? opsPerSecond(bench, 'hit', 10_000) : 0;
}

export async function benchFaults(): Promise<void> {
  const translations = hitRate();
  // Warm up, then keep the best of five runs (JIT and GC noise only ever slow a run down).
  faultRun();
  faultRun();
  const best = Math.max(...Array.from({ length: 5 }, () => faultRun().faultsPerSecond));
  report(
    { name: 'recoverable-faults', value: best, unit: 'faults/s', baseline: translations },
    `${PAGES_PER_TRANSACTION} faults per group; baseline: IOTLB-hit translations/s`,
  );

  // Each preset to completion: transactions per second of wall time against the hit-path DMA rate.
  const dmaBaseline = hitPathDmaRate();
  for (const preset of PRESETS) {
    const run = startPreset(preset);
    const start = performance.now();
    run.system.runUntilIdle();
    const seconds = (performance.now() - start) / 1000;
    report(
      {
        name: `preset-${preset.id}`,
        value: run.workload.progress.ended / seconds,
        unit: 'tx/s',
        baseline: dmaBaseline,
      },
      `${run.system.metrics().system.faults.pageRequests + run.system.metrics().system.faults.stalls} recoverable faults`,
    );
  }
  await Promise.resolve();
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
  const run = (count: number) => {
    for (let n = 0; n < count; n++)
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
  };
  run(50_000);
  const start = performance.now();
  run(200_000);
  return 200_000 / ((performance.now() - start) / 1000);
}
