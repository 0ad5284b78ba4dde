/**
 * Built-in study 1, pinning against on-demand mapping: the question the VFIO maintainer asked of the VFIO
 * IOPF series ("What is an acceptable overhead to incur to avoid page pinning?"). The same DMA workload on
 * a passthrough device with all guest memory pinned and mapped up front, with the proposal's MAP handler
 * mapping each faulting page on demand under a pin budget, and on host SVA (the process's own page tables,
 * faults resolved by handle_mm_fault); swept over how many operations run over the same buffer (first
 * touch against warm) and the buffer's size.
 */
import { PRESETS } from '@iommu-lab/emulator';
import { STUDY_FORMAT, STUDY_VERSION, type StudySpec } from '@iommu-lab/wire';

const MiB = 1 << 20;

/** A preset's system with the passthrough presets' workload (8 KiB accesses, 90 % on a 10 % hot spot). */
function experiment(presetId: string, stream: { device: string; base: string; pasid?: number }) {
  const preset = PRESETS.find((p) => p.id === presetId)!;
  const shape = PRESETS.find((p) => p.id === 'passthrough-pinned')!.workload.streams[0]!;
  return {
    version: 1 as const,
    seed: 1,
    system: structuredClone(preset.config),
    workload: { streams: [{ ...structuredClone(shape), ...stream }] },
  };
}

export function pinningVsOnDemand(): StudySpec {
  return {
    format: STUDY_FORMAT,
    version: STUDY_VERSION,
    name: 'pinning-vs-on-demand',
    title: 'Pinning against on-demand mapping: what avoiding page pinning costs, first touch against warm',
    description: [
      "The same DMA workload (8 KiB accesses, 90 % of them on a hot tenth of the buffer, half reads) three ways: a passthrough device with all 64 MiB of guest memory pinned and mapped up front (preset passthrough-pinned); the same device with no pinning, the proposal's MAP handler mapping each faulting guest page on demand under a pin budget of 4096 pages (16 MiB), evicting the least recently mapped beyond it (preset passthrough-map); and host SVA, the device on a process's own page tables with every first touch a page request resolved by handle_mm_fault (preset sva-pri-vtd). Swept: the operations over the same buffer (few: mostly first touches; many: warm) and the buffer size.",
      'What it shows: pinned DMA never faults, so its cost is flat; on-demand mapping pays a page request round trip per first touch, which the warm runs amortise while the buffer fits in the pin budget; past the budget (64 MiB) evictions make it fault again, and the slowdown stays. Host SVA pays the same first touches without a budget.',
      "Sources of the defaults: the question is Alex Williamson's on the VFIO IOPF series (2021); the pin budget and the MAP category are the proposal's (iommu-reference.md, \"fault categories\"); PRI capacity 64 and the page request path are the presets' (PCIe PRI, Outstanding Page Request Allocation).",
    ].join('\n\n'),
    experiments: [
      { label: 'pinned up front', config: experiment('passthrough-pinned', { device: 'vf0', base: '0x0' }) },
      { label: 'on-demand MAP', config: experiment('passthrough-map', { device: 'vf0', base: '0x0' }) },
      {
        label: 'host SVA',
        config: experiment('sva-pri-vtd', { device: 'nic0', base: '0x7f0000000000', pasid: 1 }),
      },
    ] as StudySpec['experiments'],
    parameters: [
      {
        path: '/workload/streams/0/count',
        values: [500, 2000, 8000, 32000],
        label: 'operations over the buffer',
        unit: 'DMAs',
      },
      {
        path: '/workload/streams/0/workingSet',
        values: [4 * MiB, 16 * MiB, 64 * MiB],
        label: 'buffer',
        unit: 'MiB',
        scale: 1 / MiB,
      },
    ],
    metrics: [
      { pointer: '/system/dmaLatencyNs/mean', label: 'mean DMA latency', unit: 'ns simulated' },
      { pointer: '/system/dmaLatencyNs/p99', label: 'DMA latency p99', unit: 'ns simulated' },
      { pointer: '/system/faults/pageRequests', label: 'page requests', unit: 'requests' },
    ],
    charts: [
      {
        title: 'Mean DMA latency against operations over a 16 MiB buffer (within the pin budget)',
        x: '/workload/streams/0/count',
        y: '/system/dmaLatencyNs/mean',
        series: 'experiment',
        xScale: 'log',
        where: { '/workload/streams/0/workingSet': 16 },
      },
      {
        title: 'Mean DMA latency against operations over a 64 MiB buffer (beyond the pin budget)',
        x: '/workload/streams/0/count',
        y: '/system/dmaLatencyNs/mean',
        series: 'experiment',
        xScale: 'log',
        where: { '/workload/streams/0/workingSet': 64 },
      },
      {
        title: 'Page requests against buffer size, 8000 operations',
        x: '/workload/streams/0/workingSet',
        y: '/system/faults/pageRequests',
        series: 'experiment',
        where: { '/workload/streams/0/count': 8000 },
      },
    ],
  };
}
