/**
 * Built-in study 4, nested cost: what an I/O page fault costs under nested translation when the guest's
 * stage 1 faults (the fault goes to the guest), when the host's stage 2 faults (the host maps), and when
 * both do. One device and workload (preset nested-guest-sva); what differs is which stage is mapped up
 * front, through the config's own `mappings` (a nested domain's mapping is its stage 1, the nest parent's
 * is stage 2), so the emulator's rules are the same in all three.
 */
import { PRESETS } from '@iommu-lab/emulator';
import { STUDY_FORMAT, STUDY_VERSION, type StudySpec } from '@iommu-lab/wire';

const MiB = 1 << 20;
const COUNT = '/workload/streams/0/count';
const WORKING_SET = '/workload/streams/0/workingSet';
const GUEST_ROUND_TRIP = '/system/options/latency/guestRoundTripNs';

/** The emulator's default guestRoundTripNs (latency-model.ts), written out so that the study can sweep it. */
const GUEST_ROUND_TRIP_DEFAULT_NS = 20_000;

type Premapped = 'stage 2' | 'stage 1' | 'nothing';

/**
 * The preset's system and workload with one stage mapped up front: stage 2 is the guest's RAM as the
 * host's VMM maps (and pins) it, stage 1 the guest's buffer as the guest has mapped it. Both in 4 KiB pages,
 * as the handlers map on demand, so that the IOTLB's reach is the same in all three: only the faults differ.
 */
function experiment(premapped: Premapped) {
  const preset = PRESETS.find((p) => p.id === 'nested-guest-sva')!;
  const system = structuredClone(preset.config);
  const handlers = system.handlers!;
  const guest = handlers.find((h) => h.domain === 'guest-s1')!.handler as {
    region: { iova: string; size: number; phys: string };
  };
  const host = handlers.find((h) => h.device === 'vf0')!.handler as {
    region: { iova: string; size: number };
  };
  const mappings = {
    'stage 2': [
      { domain: 'host-s2', iova: host.region.iova, size: host.region.size, prot: 'rw', pageSize: '4K' },
    ],
    'stage 1': [
      {
        domain: 'guest-s1',
        iova: guest.region.iova,
        size: guest.region.size,
        phys: guest.region.phys,
        prot: 'rw',
        pageSize: '4K',
      },
    ],
    nothing: [],
  }[premapped];
  return {
    version: 1 as const,
    seed: 1,
    system: {
      ...system,
      options: { ...system.options, latency: { guestRoundTripNs: GUEST_ROUND_TRIP_DEFAULT_NS } },
      ...(mappings.length > 0 ? { mappings } : {}),
    },
    workload: structuredClone(preset.workload),
  };
}

export function nestedCost(): StudySpec {
  return {
    format: STUDY_FORMAT,
    version: STUDY_VERSION,
    name: 'nested-cost',
    title: 'Nested cost: stage-1 (to the guest) against stage-2 (to the host) fault round trips, and both',
    description: [
      "A PCIe function (ATS, PRI with 64 credits, PASID) behind VT-d under the proposal profile, attached to a nested domain: the guest's stage 1 (guest virtual to guest physical, BIND: faults to the guest's queue, where the guest maps the page linearly onto its RAM) over the host's stage 2 (guest physical to host, MAP: the host's handler maps on demand under a 64 MiB pin budget). Random 16 KiB DMA (four pages, one page request group), 70 % reads, 8 in flight, over a buffer of the guest's 64 MiB (preset nested-guest-sva). Three experiments, the same handlers registered in each: \"stage 1 only\" faults (the whole 64 MiB of stage 2 mapped up front, as a VMM maps and pins all guest RAM at start); \"stage 2 only\" faults (the guest's stage 1 already maps the buffer); \"both on demand\" (the preset). Both stages are pre-mapped through the config's mappings (a nested domain's mapping is its stage 1), in 4 KiB pages as the handlers map them. Swept: the operations over the buffer (500: mostly first touches; 16000: warm), the buffer size, and the guest's fault round trip (the latency option guestRoundTripNs: VM exit, vIOMMU injection, the guest's handler, its page response trapped back).",
      "What it shows: a fault's round trip (a flow, from the translation failure to the device's resumed or re-faulting access) is a constant of its path, flat across buffer size and operations: a stage-1 fault pays the guest's round trip on top of what a stage-2 fault pays, and grows with it; a stage-2 fault does not depend on the guest at all. Both on demand, every first touch faults twice, stage 1 then (on the retry) stage 2, so the page requests double and the mean per fault lies between the other two, while the fault time per DMA (every round trip summed) is above either alone and the first-touch DMA pays both (DMA latency p99). Warm runs fault less per DMA in all three: the count of faults is the number of pages touched, not of operations.",
      'Sources: nested routing, stage-1 faults to the guest and stage-2 to the host, and Linux\'s stage 2 assumed pinned (arm-smmu-v3.c arm_smmu_handle_evt: "Stage-2 is always pinned at the moment", a stage-2 event is -EFAULT) are iommu-reference.md §4 and the proposal\'s fault categories (profile table); pinned stage 2 is what QEMU does today: hw/vfio/listener.c vfio_container_region_add maps each guest RAM section with vfio_container_dma_map, after which "the pages will be pinned by the kernel" (its comment in vfio_iommu_map_notify); stage 2 on demand is the 2021 VFIO IOPF series (IOPF_MAP, never merged: reference §4). The guest\'s round trip defaults to 20 µs (latency-model.ts, an assumption, "tens of µs"); 5 µs takes the guest\'s handling as a minor fault end to end (reference §9, NP-RDMA +3.5–5.7 µs) and 80 µs as a major one (reference §9, +60 µs) plus the exits: both assumptions. PRI capacity 64, the pin budget and the workload are the preset\'s.',
    ].join('\n\n'),
    // Labelled by the stage that faults; the argument is the stage mapped up front.
    experiments: [
      { label: 'stage 1 only', config: experiment('stage 2') },
      { label: 'stage 2 only', config: experiment('stage 1') },
      { label: 'both on demand', config: experiment('nothing') },
    ] as StudySpec['experiments'],
    parameters: [
      { path: COUNT, values: [500, 2000, 16000], label: 'operations over the buffer', unit: 'DMAs' },
      {
        path: WORKING_SET,
        values: [4 * MiB, 16 * MiB, 64 * MiB],
        label: 'buffer',
        unit: 'MiB',
        scale: 1 / MiB,
      },
      {
        path: GUEST_ROUND_TRIP,
        values: [5000, GUEST_ROUND_TRIP_DEFAULT_NS, 80000],
        label: "guest's fault round trip",
        unit: 'µs',
        scale: 1e-3,
      },
    ],
    metrics: [
      {
        pointer: '/system/faults/latencyNs/mean',
        label: 'mean fault round trip',
        unit: 'µs simulated',
        scale: 1e-3,
      },
      {
        pointer: '/system/faults/latencyNs/p99',
        label: 'fault round trip p99',
        unit: 'µs simulated',
        scale: 1e-3,
      },
      { pointer: '/hopLatencyNs/handler/mean', label: 'handler hop mean', unit: 'µs simulated', scale: 1e-3 },
      {
        pointer: '/hopLatencyNs/retranslate/mean',
        label: 'retranslate hop mean',
        unit: 'µs simulated',
        scale: 1e-3,
      },
      { pointer: '/system/dmaLatencyNs/mean', label: 'mean DMA latency', unit: 'µs simulated', scale: 1e-3 },
      { pointer: '/system/dmaLatencyNs/p99', label: 'DMA latency p99', unit: 'µs simulated', scale: 1e-3 },
      { pointer: '/system/faults/byStage/stage1', label: 'stage-1 page requests', unit: 'requests' },
      { pointer: '/system/faults/byStage/stage2', label: 'stage-2 page requests', unit: 'requests' },
      {
        pointer: '/system/faults/pageRequests',
        divideBy: ['/run/transactions'],
        label: 'page requests per DMA',
        unit: 'requests/DMA',
      },
      // What both together cost: every fault's round trip summed (count × mean), per DMA.
      {
        pointer: '/system/faults/latencyNs/count',
        multiplyBy: ['/system/faults/latencyNs/mean'],
        divideBy: ['/run/transactions'],
        scale: 1e-3,
        label: 'fault time per DMA',
        unit: 'µs simulated',
      },
    ],
    charts: [
      {
        title: 'Mean fault round trip against buffer size, 2000 operations, guest round trip 20 µs',
        x: WORKING_SET,
        y: '/system/faults/latencyNs/mean',
        series: 'experiment',
        xScale: 'log',
        where: { [COUNT]: 2000, [GUEST_ROUND_TRIP]: 20 },
      },
      {
        title:
          "Fault time per DMA (both stages together) against the guest's fault round trip, 16 MiB, 500 operations",
        x: GUEST_ROUND_TRIP,
        y: '/system/faults/latencyNs/count',
        series: 'experiment',
        xScale: 'log',
        where: { [WORKING_SET]: 16, [COUNT]: 500 },
      },
      {
        title: "Mean fault round trip against the guest's fault round trip, 16 MiB, 2000 operations",
        x: GUEST_ROUND_TRIP,
        y: '/system/faults/latencyNs/mean',
        series: 'experiment',
        xScale: 'log',
        where: { [WORKING_SET]: 16, [COUNT]: 2000 },
      },
      {
        title:
          "DMA latency p99 (a first touch) against the guest's fault round trip, 16 MiB, 2000 operations",
        x: GUEST_ROUND_TRIP,
        y: '/system/dmaLatencyNs/p99',
        series: 'experiment',
        xScale: 'log',
        where: { [WORKING_SET]: 16, [COUNT]: 2000 },
      },
      {
        title: 'Mean DMA latency against operations over a 16 MiB buffer (first touch to warm), guest 20 µs',
        x: COUNT,
        y: '/system/dmaLatencyNs/mean',
        series: 'experiment',
        xScale: 'log',
        where: { [WORKING_SET]: 16, [GUEST_ROUND_TRIP]: 20 },
      },
      {
        title: 'Page requests per DMA against operations over a 16 MiB buffer, guest 20 µs',
        x: COUNT,
        y: '/system/faults/pageRequests',
        series: 'experiment',
        xScale: 'log',
        where: { [WORKING_SET]: 16, [GUEST_ROUND_TRIP]: 20 },
      },
      {
        title: 'Stage-1 page requests against buffer size, 2000 operations, guest 20 µs',
        x: WORKING_SET,
        y: '/system/faults/byStage/stage1',
        series: 'experiment',
        xScale: 'log',
        where: { [COUNT]: 2000, [GUEST_ROUND_TRIP]: 20 },
      },
      {
        title: 'Stage-2 page requests against buffer size, 2000 operations, guest 20 µs',
        x: WORKING_SET,
        y: '/system/faults/byStage/stage2',
        series: 'experiment',
        xScale: 'log',
        where: { [COUNT]: 2000, [GUEST_ROUND_TRIP]: 20 },
      },
    ],
  };
}
