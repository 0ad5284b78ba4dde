/**
 * Built-in study 3, IOTLB reach: IOTLB hit rate and DMA cost against the IOTLB's size, the page size the
 * domain is mapped with (4 KiB or 2 MiB) and the working set: the "IOTLB wall", where the working set
 * outgrows what the IOTLB can reach (entries × page size) and every DMA pays a page walk.
 */
import { STUDY_FORMAT, STUDY_VERSION, type StudySpec } from '@iommu-lab/wire';

const MiB = 1 << 20;

/** A passthrough device without ATS (so every translation is the IOTLB's), all memory mapped up front. */
function experiment(pageSize: '4K' | '2M', transactions: number) {
  return {
    version: 1 as const,
    seed: 1,
    system: {
      version: 1,
      iommus: [
        {
          id: 'vtd0',
          family: 'vtd',
          profile: 'mainline',
          capabilities: { iotlb: { entries: 256, ways: 4, replacement: 'lru' } },
        },
      ],
      devices: [{ id: 'nic0', iommu: 'vtd0', ats: false }],
      domains: [{ id: 'dma', iommu: 'vtd0', type: 'dma' }],
      mappings: [{ domain: 'dma', iova: '0x0', size: 256 * MiB, prot: 'rw', pageSize }],
      attachments: [{ device: 'nic0', domain: 'dma' }],
    },
    workload: {
      streams: [
        {
          device: 'nic0',
          pattern: 'random',
          base: '0x0',
          workingSet: 16 * MiB,
          accessSize: 4096,
          readFraction: 0.7,
          count: transactions,
          concurrency: 8,
        },
      ],
    },
  };
}

/** `transactions` per run: 20 000 at full size; the tests run it smaller. */
export function iotlbReach(transactions = 20_000): StudySpec {
  return {
    format: STUDY_FORMAT,
    version: STUDY_VERSION,
    name: 'iotlb-reach',
    title: 'IOTLB reach: hit rate and DMA cost against IOTLB size, page size and working set',
    description: [
      'Random 4 KiB DMA over a working set of a passthrough domain mapped up front, on a VT-d IOMMU under mainline, without ATS so that every translation goes through the IOTLB. Each run sweeps the IOTLB size (entries, 4-way, LRU) and the working set, once with the domain mapped in 4 KiB pages and once in 2 MiB pages.',
      'What it shows: the hit rate stays near 100 % while the working set fits in the IOTLB reach (entries × page size: 256 entries reach 1 MiB with 4 KiB pages, 512 MiB with 2 MiB pages) and falls as the working set outgrows it; past that wall every DMA pays a page walk, which the DMA latency shows. 2 MiB pages move the wall 512 times further out.',
      'Defaults and sources: 4-way set-associative IOTLB with LRU replacement (the emulator cache model, README of packages/emulator/src/cache); mappings with 2 MiB pages are a second-level superpage (VT-d spec 3.x, 3.7 "Second-Stage Translation", SL large pages); ATS off so that the device ATC does not hide the IOTLB (PCIe ATS: a device with ATS caches translations itself).',
    ].join('\n\n'),
    experiments: [
      { label: '4 KiB pages', config: experiment('4K', transactions) },
      { label: '2 MiB pages', config: experiment('2M', transactions) },
    ] as StudySpec['experiments'],
    parameters: [
      {
        path: '/system/iommus/0/capabilities/iotlb/entries',
        values: [16, 64, 256, 1024, 4096],
        label: 'IOTLB entries',
        unit: 'entries',
      },
      {
        path: '/workload/streams/0/workingSet',
        values: [1 * MiB, 16 * MiB, 128 * MiB],
        label: 'working set',
        unit: 'MiB',
        scale: 1 / MiB,
      },
    ],
    metrics: [
      {
        pointer: '/system/translations/iotlbHits',
        divideBy: ['/system/translations/iotlbHits', '/system/translations/iotlbMisses'],
        scale: 100,
        label: 'IOTLB hit rate',
        unit: '%',
      },
      { pointer: '/system/dmaLatencyNs/p50', label: 'DMA latency p50', unit: 'ns simulated' },
      { pointer: '/system/translations/walks', label: 'page walks', unit: 'walks' },
    ],
    charts: [
      {
        title: 'IOTLB hit rate against IOTLB size, 4 KiB pages, a line per working set',
        x: '/system/iommus/0/capabilities/iotlb/entries',
        y: '/system/translations/iotlbHits',
        series: '/workload/streams/0/workingSet',
        xScale: 'log',
        where: { experiment: '4 KiB pages' },
      },
      {
        title: 'DMA latency p50 against IOTLB size, 128 MiB working set: 4 KiB against 2 MiB pages',
        x: '/system/iommus/0/capabilities/iotlb/entries',
        y: '/system/dmaLatencyNs/p50',
        series: 'experiment',
        xScale: 'log',
        where: { '/workload/streams/0/workingSet': 128 },
      },
    ],
  };
}
