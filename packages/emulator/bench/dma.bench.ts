/**
 * End-to-end DMA throughput in simulated time: one-page reads through submit → translate → complete,
 * beside a baseline of the bare scheduler running the same number of events (two per transaction).
 */
import { Bench } from 'tinybench';
import { Scheduler } from '../src/sim/scheduler';
import { System } from '../src/system';
import { opsPerSecond, report } from './report';

const BATCH = 1_000;

export async function benchDma(): Promise<void> {
  const system = new System({ seed: 1 });
  system.addIommu({ id: 'iommu0', family: 'vtd', profile: 'mainline' });
  system.addDevice({ id: 'nic0', iommu: 'iommu0', ats: true });
  system.createDomain({ id: 'dom0', iommu: 'iommu0', type: 'dma' });
  system.map('dom0', { iova: '0x100000', size: 256 * 4096, prot: 'rw' });
  system.attach('nic0', 'dom0');
  let page = 0;
  const scheduler = new Scheduler();
  const noop = (): void => {};

  const bench = new Bench({ time: 1500, warmupTime: 300 });
  bench
    .add('dma', () => {
      for (let n = 0; n < BATCH; n++) {
        system.dma({ device: 'nic0', address: 0x100000 + (page++ % 256) * 4096, length: 64, access: 'read' });
      }
      system.runUntilIdle();
    })
    .add('baseline-scheduler', () => {
      for (let n = 0; n < 2 * BATCH; n++) scheduler.after(n, noop);
      scheduler.runUntilIdle();
    });
  await bench.run();
  report({
    name: 'dma-transactions',
    value: opsPerSecond(bench, 'dma', BATCH),
    unit: 'tx/s',
    baseline: opsPerSecond(bench, 'baseline-scheduler', BATCH),
  });
}
