/**
 * End-to-end DMA throughput in simulated time: one-page reads through submit → translate → complete,
 * beside a baseline of the bare scheduler running the same number of events (two per transaction),
 * alternating round by round. Then the scheduler's own cost per event with as many events waiting as a
 * fault workload keeps (64 DMA in flight, each with an event or two waiting), against the same actions
 * called in a plain loop: what each scheduled step of a fault's life costs before it does any work.
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
  benchSchedulerEvents();
}

/** Chains of events waiting at once, as in a fault workload with 64 DMA in flight. */
const IN_FLIGHT = 128;

function benchSchedulerEvents(): void {
  // Each event schedules its chain's next one a pseudo-random 100–1,123 ns later, so the heap stays
  // IN_FLIGHT deep and new events land anywhere in it, as a fault's steps do among other devices' steps.
  let state = 1;
  const nextDelay = () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return 100 + (state & 1023);
  };
  const scheduler = new Scheduler();
  let left = 0;
  const chain = (arg: number): void => {
    if (left-- > 0) scheduler.after(nextDelay(), chain, arg);
  };
  let sum = 0;
  const direct = (arg: number): void => {
    sum += nextDelay() + arg;
  };
  const rates = roundsOf(
    {
      scheduled: () => {
        left = BATCH * 10 - IN_FLIGHT;
        for (let n = 0; n < IN_FLIGHT; n++) scheduler.after(n, chain, n);
        scheduler.runUntilIdle();
      },
      'baseline-direct': () => {
        for (let n = 0; n < BATCH * 10; n++) direct(n);
      },
    },
    BATCH * 10,
  );
  if (!(sum > 0)) throw new Error('scheduler benchmark: the direct calls did not run');
  reportRuns({
    name: 'scheduler-events-128-waiting',
    unit: 'events/s',
    runs: rates.scheduled!,
    baselineRuns: rates['baseline-direct']!,
    better: 'higher',
    note: `${IN_FLIGHT} events waiting at random delays; baseline: the same actions called in a loop, no queue`,
  });
}
