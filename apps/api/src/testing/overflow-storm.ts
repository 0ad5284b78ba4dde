/**
 * An experiment whose workload storms its page request queue (packages/emulator/src/fault/
 * livelock-detector.ts): eight PRI devices doing SVA, each group as large as the 16-entry PRQ, and a
 * driver thread that takes 5 µs per entry, so nearly every page request is lost and retried. The emulator
 * stops it as a livelock within a few thousand requests; a run of it ends failed, saying so.
 */
import type { ExperimentConfig } from '@iommu-lab/wire';

const BASE = 0x100000000;
const DEVICES = 8;
const GROUP_PAGES = 16;
const TRANSACTIONS = 8;

export function overflowStormExperiment(): ExperimentConfig {
  const span = GROUP_PAGES * TRANSACTIONS * 4096;
  const devices = Array.from({ length: DEVICES }, (_, i) => `d${i}`);
  return {
    version: 1,
    seed: 1,
    system: {
      version: 1,
      options: { latency: { queueServiceNs: 5000 } },
      iommus: [
        { id: 'vtd0', family: 'vtd', profile: 'mainline', capabilities: { pageRequestQueueDepth: 16 } },
      ],
      devices: devices.map((id) => ({
        id,
        iommu: 'vtd0',
        ats: true,
        pri: { capacity: 2048 },
        pasidBits: 20,
      })),
      processes: [
        { id: 'app', vmas: [{ address: `0x${BASE.toString(16)}`, size: DEVICES * span, prot: 'rw' }] },
      ],
      bindings: devices.map((device) => ({ device, process: 'app' })),
    },
    workload: {
      streams: devices.map((device, i) => ({
        device,
        pasid: 1,
        pattern: 'sequential',
        base: `0x${(BASE + i * span).toString(16)}`,
        workingSet: span,
        accessSize: GROUP_PAGES * 4096,
        count: TRANSACTIONS,
        concurrency: 2,
      })),
    },
  };
}
