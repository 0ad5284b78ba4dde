/**
 * Built-in study 5, kernel profiles: the same devices and workloads under seed-5.13 (the 2021 API of the
 * discussion), mainline and the proposal, each set up the way one of them expects. What each refuses is
 * a run refused with the emulator's reason (the study's "Runs that did not finish"); what each costs is
 * the runs that ran.
 */
import { PRESETS } from '@iommu-lab/emulator';
import { STUDY_FORMAT, STUDY_VERSION, type StudySpec } from '@iommu-lab/wire';

const preset = (id: string) => structuredClone(PRESETS.find((p) => p.id === id)!);
const FEATURES = (device: string) => [
  { device, feature: 'IOPF' as const },
  { device, feature: 'SVA' as const },
];

/** A preset's system and workload as an experiment; `change` adjusts the set-up steps. */
function experiment(id: string, change: (p: ReturnType<typeof preset>) => void = () => {}) {
  const p = preset(id);
  change(p);
  return { version: 1 as const, seed: 1, system: p.config, workload: p.workload };
}

/** The SMMUv3 PCIe PRI device of sva-mainline alone, with the SVA workload's 2000 accesses. */
const smmuPri = (p: ReturnType<typeof preset>) => {
  p.config.iommus = [p.config.iommus[1]!];
  p.config.devices = [p.config.devices![1]!];
  p.config.bindings = [p.config.bindings![1]!];
  p.workload = { streams: [{ ...p.workload.streams[1]!, count: 2000 }] };
};

const PROFILE = '/system/iommus/*/profile';

export function kernelProfiles(): StudySpec {
  return {
    format: STUDY_FORMAT,
    version: STUDY_VERSION,
    name: 'kernel-profiles',
    title: 'Kernel profiles: what seed-5.13, mainline and the proposal each refuse, and what each costs',
    description: [
      'Six set-ups of a device and its workload, each run under the three kernel profiles: SVA on a VT-d PCIe device with PRI, set up with the feature calls (IOPF, then SVA) and then the bind, and with the bind alone; SVA on an SMMUv3 platform device that tolerates stalls, with the bind alone; SVA on an SMMUv3 PCIe device with PRI, with the bind alone and with the feature calls; and a passthrough DMA domain with nothing pinned, whose faults a MAP handler resolves on demand. The SVA workloads are 2000 random 16 KiB accesses over 16 MiB of the process; the passthrough one 4000 accesses of 8 KiB over 64 MiB of guest memory.',
      "What it shows: seed-5.13 needs the feature calls and has one fault handler per device, without categories, so it refuses the bind alone and the MAP handler, and it cannot take PRI behind SMMUv3. Mainline removed iommu_dev_enable_feature(), so it refuses every set-up with feature calls; its bind alone switches faults on, and an SMMUv3 PRI device's page requests are denied (every DMA ends in a fault, at the cost of the denial's round trip). The proposal keeps the explicit calls, feeds SMMUv3's PRI queue to the fault path and adds the MAP category; it refuses the bind alone. Where two profiles run the same set-up, they cost the same: the profiles differ in what they allow, not in the fault path's speed.",
      'Sources: the feature state machine and mainline\'s enable on attach (iommu-reference.md §3, "Device features, SVA binding"); SMMUv3 under mainline, PRIQ requests not fed to iopf and answered PRI_RESP_DENY (§6; drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c, arm_smmu_handle_ppr); fault categories and the MAP handler (the proposal, iommu-reference.md "fault categories"); the devices and workloads are the presets sva-seed-5.13, sva-pri-vtd, smmu-stall-sva, sva-mainline and passthrough-map.',
    ].join('\n\n'),
    experiments: [
      { label: 'VT-d PRI, feature calls + bind', config: experiment('sva-seed-5.13') },
      {
        label: 'VT-d PRI, bind alone',
        config: experiment('sva-pri-vtd', (p) => void delete p.config.features),
      },
      { label: 'SMMUv3 stall, bind alone', config: experiment('smmu-stall-sva') },
      { label: 'SMMUv3 PRI, bind alone', config: experiment('sva-mainline', smmuPri) },
      {
        label: 'SMMUv3 PRI, feature calls + bind',
        config: experiment('sva-mainline', (p) => {
          smmuPri(p);
          p.config.features = FEATURES('nic1');
        }),
      },
      { label: 'passthrough, MAP on demand', config: experiment('passthrough-map') },
    ] as StudySpec['experiments'],
    parameters: [
      { path: PROFILE, values: ['seed-5.13', 'mainline', 'proposal'], label: 'kernel profile', unit: '' },
    ],
    metrics: [
      { pointer: '/system/dmaLatencyNs/mean', label: 'mean DMA latency', unit: 'ns simulated' },
      { pointer: '/system/dmaLatencyNs/p99', label: 'DMA latency p99', unit: 'ns simulated' },
      { pointer: '/system/transactions/completed', label: 'DMAs completed', unit: 'DMAs' },
      { pointer: '/system/transactions/faulted', label: 'DMAs ended in a fault', unit: 'DMAs' },
      { pointer: '/system/faults/pageRequests', label: 'page requests', unit: 'requests' },
      { pointer: '/system/faults/responses/INVALID', label: 'faults answered INVALID', unit: 'faults' },
    ],
    charts: [
      {
        title: 'Mean DMA latency under each kernel profile (a missing bar: the profile refused the set-up)',
        x: PROFILE,
        y: '/system/dmaLatencyNs/mean',
        series: 'experiment',
      },
      {
        title: 'DMAs that ended in a fault under each kernel profile',
        x: PROFILE,
        y: '/system/transactions/faulted',
        series: 'experiment',
      },
    ],
  };
}
