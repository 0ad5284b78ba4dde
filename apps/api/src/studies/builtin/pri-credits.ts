/**
 * Built-in study 2, PRI credits and queue depth: throughput and fault latency against each device's
 * Outstanding Page Request Allocation and the IOMMU's page request queue depth, with 4, 16 and 64 devices
 * sharing one queue, up to where the overflow storm (lost requests answered by the IOMMU's automatic
 * Success, retried, lost again) begins and where the emulator stops it as a livelock.
 */
import { STUDY_FORMAT, STUDY_VERSION, type StudySpec } from '@iommu-lab/wire';

const BASE = 0x100000000;
const PAGE = 4096;
/** A 64 KiB buffer per access: a group of 16 page requests on its first touch. */
const GROUP_PAGES = 16;
/** Pages first touched in every experiment, spread over its devices: the same work, more requesters. */
const TOTAL_PAGES = 8192;

/** `devices` SVA devices of one process on one VT-d, each touching its own part of the buffer once. */
function experiment(devices: number) {
  const accesses = TOTAL_PAGES / GROUP_PAGES / devices;
  const span = accesses * GROUP_PAGES * PAGE;
  const ids = Array.from({ length: devices }, (_, i) => `nic${i}`);
  const hex = (address: number) => `0x${address.toString(16)}`;
  return {
    version: 1 as const,
    seed: 1,
    system: {
      version: 1 as const,
      iommus: [
        {
          id: 'vtd0',
          family: 'vtd' as const,
          profile: 'mainline' as const,
          capabilities: { pageRequestQueueDepth: 2048 },
        },
      ],
      devices: ids.map((id) => ({
        id,
        iommu: 'vtd0',
        ats: true,
        pri: { capacity: 2048 },
        pasidBits: 20,
        prgResponsePasidRequired: true,
      })),
      processes: [{ id: 'app', vmas: [{ address: hex(BASE), size: devices * span, prot: 'rw' as const }] }],
      bindings: ids.map((device) => ({ device, process: 'app' })),
    },
    workload: {
      streams: ids.map((device, i) => ({
        device,
        pasid: 1,
        pattern: 'sequential' as const,
        base: hex(BASE + i * span),
        workingSet: span,
        accessSize: GROUP_PAGES * PAGE,
        count: accesses,
        concurrency: 4,
      })),
    },
  };
}

const CAPACITY = '/system/devices/*/pri/capacity';
const DEPTH = '/system/iommus/0/capabilities/pageRequestQueueDepth';
const LOST = '/system/faults/queueOverflows/page-request';

export function priCredits(): StudySpec {
  return {
    format: STUDY_FORMAT,
    version: STUDY_VERSION,
    name: 'pri-credits',
    title: 'PRI credits and page request queue depth: throughput, fault latency and the overflow storm',
    description: [
      "The same work, 8192 pages of a process first touched by DMA in 64 KiB accesses (a group of 16 page requests each, 4 in flight per device), spread over 4, 16 or 64 PCIe devices doing SVA on one VT-d IOMMU under mainline. Swept: each device's Outstanding Page Request Capacity, which the kernel allocates as min(capacity, PRQ depth), and the depth of the IOMMU's page request queue.",
      "What it shows: with few devices, a small allocation throttles each device (it waits for credits, and the throughput falls), while the queue never fills. With many devices, the devices' allocations together exceed the queue: requests are lost, the IOMMU answers each lost last request of a group with Success itself, the device retries the whole group and loses it again. Lost requests per delivered fault climb from zero to tens, and where nearly every request is lost the emulator stops the run as a livelock (crosses on the charts; their figures are the counts up to the stop). Throughput barely moves until then: the driver's thread, reading one entry at a time, sets the pace.",
      'Sources of the defaults: PRQ depth 2048 and an allocation of 2048 per device are what Linux gives (drivers/iommu/intel/prq.c, PRQ_ORDER 4 with 32 B descriptors; intel_iommu_enable_iopf calls pci_enable_pri(pdev, PRQ_DEPTH), so one device may fill the whole queue; iommu-reference.md, "Intel enable-IOPF"); the Outstanding Page Request Capacity and Allocation registers are PCIe PRI\'s (iommu-reference.md, "Capabilities"); the automatic Success for a lost last request is the reference\'s stated belief about VT-d hardware while the overflow bit (PRO) is set, marked unverified (iommu-reference.md §7), and Linux drains the queue, then discards partial groups and clears PRO (prq.c, iopf_queue_discard_partial); 200 ns per queue entry read by the driver is the emulator\'s stated assumption (latency model, queueServiceNs); the livelock bound of 256 lost requests per delivered fault is the emulator\'s (system option livelock.bound).',
    ].join('\n\n'),
    experiments: [
      { label: '4 devices', config: experiment(4) },
      { label: '16 devices', config: experiment(16) },
      { label: '64 devices', config: experiment(64) },
    ] as StudySpec['experiments'],
    parameters: [
      { path: CAPACITY, values: [8, 32, 128, 512], label: 'PRI capacity per device', unit: 'requests' },
      { path: DEPTH, values: [32, 128, 512, 2048], label: 'page request queue depth', unit: 'entries' },
    ],
    metrics: [
      {
        pointer: '/system/bytes',
        divideBy: ['/run/simulatedNs'],
        label: 'throughput',
        unit: 'GB/s simulated',
      },
      { pointer: '/system/dmaLatencyNs/mean', label: 'mean DMA latency', unit: 'ns simulated' },
      { pointer: '/system/dmaLatencyNs/p99', label: 'DMA latency p99', unit: 'ns simulated' },
      {
        pointer: LOST,
        divideBy: ['/system/faults/byCategory/BIND'],
        absent: 0,
        label: 'page requests lost per delivered fault',
        unit: 'requests',
      },
      { pointer: '/system/faults/creditWaits', label: 'waits for a PRI credit', unit: 'waits' },
      { pointer: '/system/faults/pageRequests', label: 'page requests', unit: 'requests' },
    ],
    charts: [
      {
        title: 'Where the overflow storm begins: lost page requests per delivered fault, 64 devices',
        x: DEPTH,
        y: LOST,
        series: CAPACITY,
        xScale: 'log',
        where: { experiment: '64 devices' },
      },
      {
        title: 'Lost page requests per delivered fault against queue depth, by device count (capacity 128)',
        x: DEPTH,
        y: LOST,
        series: 'experiment',
        xScale: 'log',
        where: { [CAPACITY]: 128 },
      },
      {
        title: 'Throughput against PRI capacity, PRQ depth 2048',
        x: CAPACITY,
        y: '/system/bytes',
        series: 'experiment',
        xScale: 'log',
        where: { [DEPTH]: 2048 },
      },
      {
        title: 'DMA latency p99 against PRI capacity, 16 devices',
        x: CAPACITY,
        y: '/system/dmaLatencyNs/p99',
        series: DEPTH,
        xScale: 'log',
        where: { experiment: '16 devices' },
      },
    ],
  };
}
