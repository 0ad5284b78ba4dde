/**
 * End-to-end DMA throughput in simulated time: one-page reads through submit → translate → complete,
 * beside a baseline of the bare scheduler running the same number of events (two per transaction),
 * alternating round by round.
 */
import { Scheduler } from '../src/sim/scheduler';
import { System } from '../src/system';
import { ROUNDS, ROUND_MS, reportRuns, roundsOf } from './report';

const BATCH = 1_000;

export function benchDma(): void {
  const system = new System({ seed: 1 });
  system.addIommu({ id: 'iommu0', family: 'vtd', profile: 'mainline' });
  system.addDevice({ id: 'nic0', iommu: 'iommu0', ats: true });
  system.createDomain({ id: 'dom0', iommu: 'iommu0', type: 'dma' });
  system.map('dom0', { iova: '0x100000', size: 256 * 4096, prot: 'rw' });
  system.attach('nic0', 'dom0');
  let page = 0;
  const scheduler = new Scheduler();
  const noop = (): void => {};

  const rates = roundsOf(
    {
      dma: () => {
        for (let n = 0; n < BATCH; n++) {
          system.dma({
            device: 'nic0',
            address: 0x100000 + (page++ % 256) * 4096,
            length: 64,
            access: 'read',
          });
        }
        system.runUntilIdle();
      },
      'baseline-scheduler': () => {
        for (let n = 0; n < 2 * BATCH; n++) scheduler.after(n, noop);
        scheduler.runUntilIdle();
      },
    },
    BATCH,
  );
  reportRuns({
    name: 'dma-transactions',
    unit: 'tx/s',
    runs: rates.dma!,
    baselineRuns: rates['baseline-scheduler']!,
    better: 'higher',
    note: `${ROUNDS} rounds of ${ROUND_MS} ms each; baseline: the bare scheduler, two events per transaction`,
  });
}
