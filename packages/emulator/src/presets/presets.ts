/**
 * Scenario presets: each a system config plus a workload, reproducing a situation of the 2021 seed thread
 * on separating I/O page faults from SVA (reference, profile table). Pairs that are meant to be compared
 * name each other in `compareWith`.
 */
import { buildSystem } from '../config/build-system';
import type { SystemConfig } from '../config/system-config';
import { type EmulatorError, isEmulatorError } from '../errors';
import type { System } from '../system';
import type { WorkloadProgress, WorkloadRun } from '../workload/workload-runner';
import type { HandlerSpec } from '../fault/handler-registry';
import type { WorkloadSpec } from '../workload/workload-spec';

export interface Preset {
  id: string;
  title: string;
  description: string;
  config: SystemConfig;
  workload: WorkloadSpec;
  /** The preset this one is meant to be compared with (same workload, one thing changed). */
  compareWith?: string;
  /** A call the preset shows being refused: registering this handler on this device. */
  refusal?: { device: string; handler: HandlerSpec; code: string };
}

const MiB = 1024 * 1024;
const USER_BASE = '0x7f0000000000';

/** A PCIe function with ATS, PRI and PASID, as SVA over PRI needs (VT-d needs "PRG Response PASID Required"). */
const PRI_DEVICE = { ats: true, pri: { capacity: 64 }, pasidBits: 20, prgResponsePasidRequired: true };

const svaProcess = { id: 'app', vmas: [{ address: USER_BASE, size: 64 * MiB, prot: 'rw' }] };

/** Random 16 KiB accesses over 16 MiB of the process (PASID 1: the first PASID a process gets), 70 % reads. */
function svaWorkload(device: string, pasid: number | null = 1): WorkloadSpec {
  return {
    streams: [
      {
        device,
        ...(pasid === null ? {} : { pasid }),
        pattern: 'random',
        base: USER_BASE,
        workingSet: 16 * MiB,
        accessSize: 16 * 1024,
        readFraction: 0.7,
        count: 2000,
        concurrency: 8,
      },
    ],
  };
}

/** The same guest-RAM workload for passthrough with pinning and with on-demand mapping. */
const passthroughWorkload: WorkloadSpec = {
  streams: [
    {
      device: 'vf0',
      pattern: 'hotspot',
      base: '0x0',
      workingSet: 64 * MiB,
      accessSize: 8192,
      hotFraction: 0.1,
      hotProbability: 0.9,
      readFraction: 0.5,
      count: 4000,
      concurrency: 8,
    },
  ],
};

export const PRESETS: readonly Preset[] = [
  {
    id: 'sva-pri-vtd',
    title: '(a) SVA with IOMMU-managed I/O page faults over PRI on VT-d',
    description:
      'A PCIe function with ATS, PRI and PASID behind VT-d under the seed-5.13 API: IOPF enabled before SVA, a process bound, DMA on its virtual addresses. Every first touch is a page request group resolved by the kernel SVA handler (handle_mm_fault).',
    config: {
      version: 1,
      iommus: [{ id: 'vtd0', family: 'vtd', profile: 'seed-5.13' }],
      devices: [{ id: 'nic0', iommu: 'vtd0', ...PRI_DEVICE }],
      processes: [svaProcess],
      features: [
        { device: 'nic0', feature: 'IOPF' },
        { device: 'nic0', feature: 'SVA' },
      ],
      bindings: [{ device: 'nic0', process: 'app' }],
    },
    workload: svaWorkload('nic0'),
  },
  {
    id: 'sva-self-faulting',
    title: '(b) SVA on a device that manages its own faults',
    description:
      'A device with its own fault handling (no PRI): SVA is enabled without IOPF, and on a translation failure its driver resolves the page in the process and the device retries.',
    config: {
      version: 1,
      iommus: [{ id: 'vtd0', family: 'vtd', profile: 'seed-5.13' }],
      devices: [{ id: 'gpu0', iommu: 'vtd0', pasidBits: 20, managesOwnFaults: true }],
      processes: [svaProcess],
      features: [{ device: 'gpu0', feature: 'SVA' }],
      bindings: [{ device: 'gpu0', process: 'app' }],
    },
    workload: svaWorkload('gpu0'),
  },
  {
    id: 'passthrough-pinned',
    title: '(c) Passthrough with all guest RAM pinned',
    description:
      'VFIO-style passthrough: the whole 64 MiB of guest RAM is mapped and pinned up front, so DMA never faults.',
    config: {
      version: 1,
      iommus: [{ id: 'vtd0', family: 'vtd', profile: 'proposal' }],
      devices: [{ id: 'vf0', iommu: 'vtd0', ats: true, pri: { capacity: 64 } }],
      domains: [{ id: 'vm', iommu: 'vtd0', type: 'dma' }],
      mappings: [{ domain: 'vm', iova: '0x0', size: 64 * MiB, prot: 'rw' }],
      attachments: [{ device: 'vf0', domain: 'vm' }],
    },
    workload: passthroughWorkload,
    compareWith: 'passthrough-map',
  },
  {
    id: 'passthrough-map',
    title: '(c) Passthrough with on-demand mapping (MAP)',
    description:
      "The same guest and workload without pinning: the proposal's MAP handler maps each faulting guest page on demand under a pin budget of 4096 pages (16 MiB), evicting the least recently mapped page beyond it.",
    config: {
      version: 1,
      iommus: [{ id: 'vtd0', family: 'vtd', profile: 'proposal' }],
      devices: [{ id: 'vf0', iommu: 'vtd0', ats: true, pri: { capacity: 64 } }],
      domains: [{ id: 'vm', iommu: 'vtd0', type: 'dma' }],
      features: [{ device: 'vf0', feature: 'IOPF' }],
      handlers: [
        {
          device: 'vf0',
          handler: {
            type: 'map',
            categories: ['MAP'],
            region: { iova: '0x0', size: 64 * MiB },
            pinBudgetPages: 4096,
          },
        },
      ],
      attachments: [{ device: 'vf0', domain: 'vm' }],
    },
    workload: passthroughWorkload,
    compareWith: 'passthrough-pinned',
  },
  {
    id: 'nested-guest-sva',
    title: '(d) Nested guest SVA over host stage 2, both categories',
    description:
      "A guest owns stage 1 (guest virtual → guest physical) over the host's stage 2 (guest physical → host). Stage-1 faults (BIND) go to the guest's queue and the guest maps them; stage-2 faults (MAP) go to the host's MAP handler. Both are in flight at once; events carry the stage.",
    config: {
      version: 1,
      iommus: [{ id: 'vtd0', family: 'vtd', profile: 'proposal' }],
      devices: [{ id: 'vf0', iommu: 'vtd0', ...PRI_DEVICE }],
      domains: [
        { id: 'host-s2', iommu: 'vtd0', type: 'dma', nestParent: true },
        { id: 'guest-s1', iommu: 'vtd0', type: 'nested', parent: 'host-s2' },
      ],
      features: [{ device: 'vf0', feature: 'IOPF' }],
      handlers: [
        {
          domain: 'guest-s1',
          handler: { type: 'guest', region: { iova: USER_BASE, size: 64 * MiB, phys: '0x40000000' } },
        },
        {
          device: 'vf0',
          handler: { type: 'map', region: { iova: '0x40000000', size: 64 * MiB }, pinBudgetPages: 16384 },
        },
      ],
      attachments: [{ device: 'vf0', domain: 'guest-s1' }],
    },
    workload: svaWorkload('vf0', null),
  },
  {
    id: 'smmu-stall-sva',
    title: '(e) SMMUv3 stall device with SVA',
    description:
      'A platform device behind SMMUv3 that tolerates stalls, under mainline: binding the process enables I/O page faults on attach; each fault stalls the transaction, the event goes to the event queue, and CMD_RESUME retries it.',
    config: {
      version: 1,
      iommus: [{ id: 'smmu0', family: 'smmuv3', profile: 'mainline' }],
      devices: [{ id: 'acc0', iommu: 'smmu0', kind: 'platform', stall: true, pasidBits: 16 }],
      processes: [svaProcess],
      bindings: [{ device: 'acc0', process: 'app' }],
    },
    workload: svaWorkload('acc0'),
  },
  {
    id: 'no-map-driver',
    title: '(f) A driver without MAP support refuses a MAP handler',
    description:
      "An SMMUv3 driver under the proposal that reports BIND only: registering a MAP handler is refused (EOPNOTSUPP), so faults in the device's DMA domain find no handler and are answered INVALID, as the kernel answers a fault without a handler.",
    config: {
      version: 1,
      iommus: [{ id: 'smmu0', family: 'smmuv3', profile: 'proposal', driver: { faultCategories: ['BIND'] } }],
      devices: [{ id: 'acc0', iommu: 'smmu0', kind: 'platform', stall: true }],
      domains: [{ id: 'dma0', iommu: 'smmu0', type: 'dma' }],
      mappings: [{ domain: 'dma0', iova: '0x0', size: 4 * MiB, prot: 'rw' }],
      features: [{ device: 'acc0', feature: 'IOPF' }],
      attachments: [{ device: 'acc0', domain: 'dma0' }],
    },
    workload: {
      streams: [
        { device: 'acc0', pattern: 'random', base: '0x0', workingSet: 8 * MiB, count: 500, concurrency: 4 },
      ],
    },
    refusal: {
      device: 'acc0',
      handler: { type: 'map', region: { iova: '0x0', size: 8 * MiB }, pinBudgetPages: 1024 },
      code: 'EOPNOTSUPP',
    },
  },
  {
    id: 'sva-seed-5.13',
    title: '(g) The same SVA workload under seed-5.13',
    description:
      'Explicit feature calls (IOPF, then SVA) before the bind. Compare with mainline, where the same bind enables faults on attach.',
    config: {
      version: 1,
      iommus: [{ id: 'vtd0', family: 'vtd', profile: 'seed-5.13' }],
      devices: [{ id: 'nic0', iommu: 'vtd0', ...PRI_DEVICE }],
      processes: [svaProcess],
      features: [
        { device: 'nic0', feature: 'IOPF' },
        { device: 'nic0', feature: 'SVA' },
      ],
      bindings: [{ device: 'nic0', process: 'app' }],
    },
    workload: svaWorkload('nic0'),
    compareWith: 'sva-mainline',
  },
  {
    id: 'sva-mainline',
    title: '(g) The same SVA workload under mainline, with an SMMUv3 PRI device',
    description:
      'No feature calls: the bind attaches an SVA domain, which switches I/O page faults on. A second stream runs on a PCIe PRI device behind SMMUv3, whose page requests mainline denies (PRI_RESP_DENY), so its faults end in errors; under seed-5.13 that device could not enable IOPF at all.',
    config: {
      version: 1,
      iommus: [
        { id: 'vtd0', family: 'vtd', profile: 'mainline' },
        { id: 'smmu0', family: 'smmuv3', profile: 'mainline' },
      ],
      devices: [
        { id: 'nic0', iommu: 'vtd0', ...PRI_DEVICE },
        { id: 'nic1', iommu: 'smmu0', ...PRI_DEVICE },
      ],
      processes: [svaProcess],
      bindings: [
        { device: 'nic0', process: 'app' },
        { device: 'nic1', process: 'app' },
      ],
    },
    workload: {
      streams: [...svaWorkload('nic0').streams, { ...svaWorkload('nic1').streams[0]!, count: 200 }],
    },
    compareWith: 'sva-seed-5.13',
  },
  {
    id: 'vmm-external',
    title: '(h) Passthrough with the VMM as the fault handler (external)',
    description:
      "A guest's DMA domain with nothing mapped and an external MAP handler: each fault waits (1 simulated second) for an outside client, as a VMM reads its iommufd fault queue. Answer from the dashboard's Stream view: map the page in the domain, then SUCCESS; SUCCESS without a mapping faults again; unanswered groups time out as INVALID.",
    config: {
      version: 1,
      iommus: [{ id: 'vtd0', family: 'vtd', profile: 'proposal' }],
      devices: [{ id: 'vf0', iommu: 'vtd0', ats: true, pri: { capacity: 64 } }],
      domains: [{ id: 'vm', iommu: 'vtd0', type: 'dma' }],
      features: [{ device: 'vf0', feature: 'IOPF' }],
      handlers: [{ device: 'vf0', handler: { type: 'external', categories: ['MAP'] } }],
      attachments: [{ device: 'vf0', domain: 'vm' }],
    },
    // A few accesses: unanswered, each group takes the handler's timeout.
    workload: {
      streams: [{ device: 'vf0', pattern: 'sequential', base: '0x0', workingSet: 16 * 4096, count: 16 }],
    },
  },
];

export function presetById(id: string): Preset | undefined {
  return PRESETS.find((preset) => preset.id === id);
}

export interface PresetRun {
  system: System;
  workload: WorkloadRun;
  /** The refusal the preset demonstrates, as the error it produced. */
  refusal: ReturnType<EmulatorError['toJSON']> | null;
}

/** Builds the preset's system, tries its refusal if it has one, and starts its workload. */
export function startPreset(preset: Preset, onProgress?: (progress: WorkloadProgress) => void): PresetRun {
  const system = buildSystem(preset.config);
  let refusal: PresetRun['refusal'] = null;
  if (preset.refusal) {
    try {
      system.registerFaultHandler(preset.refusal.device, preset.refusal.handler);
    } catch (error) {
      if (!isEmulatorError(error)) throw error;
      refusal = error.toJSON();
    }
  }
  return { system, workload: system.runWorkload(preset.workload, onProgress), refusal };
}
