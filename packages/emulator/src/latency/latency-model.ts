/**
 * The latency model: the simulated cost of each step of a DMA. Every default names its source; where the
 * reference only gives a range or calls a figure an assumption, the default says so (reference §9).
 * Every value is configurable per system.
 */
import { fail } from '../errors';

export interface LatencyModel {
  /** IOTLB lookup that hits. */
  iotlbHitNs: number;
  /** Device ATC lookup that hits. */
  atcHitNs: number;
  /** One page-table entry read during a walk (a 4-level walk costs four). */
  walkAccessNs: number;
  /** ATS Translation Request to the IOMMU and its completion, excluding the IOMMU's own lookup. */
  atsRoundTripNs: number;
  /** Data moved per ns once translated (bytes/ns = GB/s). */
  transferBytesPerNs: number;
  /** PCIe Page Request message to the IOMMU plus the PRG Response back (half each way). */
  priRoundTripNs: number;
  /** The driver's queue thread reading one entry of a hardware queue (PRQ, PRIQ, event queue). */
  queueServiceNs: number;
  /** From the iopf core queueing a group to its workqueue running the handler. */
  iopfDispatchNs: number;
  /** A handler's fixed cost per group. */
  handlerNs: number;
  /** handle_mm_fault that allocates a zeroed page. */
  minorFaultNs: number;
  /** handle_mm_fault that reads a page back from swap. */
  majorFaultNs: number;
  /** Writing a page response (VT-d QI descriptor, SMMUv3 command) and its completion. */
  responseNs: number;
  /** SMMUv3 CMD_RESUME: the stalled transaction re-enters translation. */
  stallResumeNs: number;
  /** A MAP handler pinning and mapping one page. */
  mapFaultNs: number;
  /** A MAP handler unmapping, invalidating and unpinning one page to stay within its pin budget. */
  evictionNs: number;
  /** Injecting a stage-1 fault into a guest and getting its answer back (vIOMMU round trip). */
  guestRoundTripNs: number;
  /** A device that handles its own faults: interrupt to its driver and the driver's work around handle_mm_fault. */
  deviceFaultNs: number;
}

export const DEFAULT_LATENCY: Readonly<LatencyModel> = {
  iotlbHitNs: 20,
  atcHitNs: 5,
  walkAccessNs: 150,
  atsRoundTripNs: 1500,
  transferBytesPerNs: 16,
  priRoundTripNs: 1500,
  queueServiceNs: 200,
  iopfDispatchNs: 2000,
  handlerNs: 500,
  minorFaultNs: 1500,
  majorFaultNs: 60000,
  responseNs: 300,
  stallResumeNs: 1000,
  mapFaultNs: 2000,
  evictionNs: 1500,
  guestRoundTripNs: 20000,
  deviceFaultNs: 5000,
};

/** Where each default comes from, shown beside the numbers in the API and dashboard. */
export const LATENCY_SOURCES: Readonly<Record<keyof LatencyModel, string>> = {
  iotlbHitNs:
    'assumption: an on-chip cache lookup of a few cycles at IOMMU clock (reference §9 gives no figure)',
  atcHitNs: 'assumption: a device-local cache lookup',
  walkAccessNs:
    'reference §9 suggested default "IOTLB miss walk 0.3–1 µs" (assumption): 150 ns an entry puts a 4-level walk at 600 ns',
  atsRoundTripNs: 'reference §9 suggested default "ATS round trip 1–2 µs" (assumption): midpoint 1.5 µs',
  transferBytesPerNs:
    'assumption: 16 GB/s, about half of PCIe 4.0 x16 raw bandwidth (31.5 GB/s) after protocol overheads',
  priRoundTripNs:
    'assumption: a PCIe message each way, taken equal to the ATS round trip (reference §9 "ATS round trip 1–2 µs")',
  queueServiceNs: 'assumption: the PRQ/event-queue thread reads and decodes one 16–32 B entry',
  iopfDispatchNs:
    'assumption: waking an unbound workqueue worker (io-pgfault.c dispatches groups on a workqueue)',
  handlerNs: 'assumption: fixed handler overhead per group',
  minorFaultNs:
    'reference §9: NP-RDMA measured +3.5–5.7 µs for a minor fault end to end (arXiv 2310.11062); the handle_mm_fault share is taken as 1.5 µs',
  majorFaultNs: 'reference §9: NP-RDMA measured +60 µs for a major fault (arXiv 2310.11062)',
  responseNs: 'assumption: one invalidation-queue / command-queue descriptor and its completion',
  stallResumeNs: 'assumption: CMD_RESUME through the SMMUv3 command queue, then the re-walk',
  mapFaultNs: 'assumption: pin_user_pages of one page plus an IO page-table update',
  evictionNs: 'assumption: unmap, IOTLB+ATC invalidation and unpin of one page',
  guestRoundTripNs: 'assumption: a VM exit, vIOMMU emulation and the guest fault handler, tens of µs',
  deviceFaultNs:
    'assumption: a device interrupt and its driver around handle_mm_fault (GPU far faults are quoted at 20–50 µs, reference §9 [?])',
};

export function resolveLatency(overrides: Partial<LatencyModel> = {}): LatencyModel {
  const model: LatencyModel = { ...DEFAULT_LATENCY };
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in DEFAULT_LATENCY))
      fail('EINVAL', `latency has no setting ${JSON.stringify(key)}.`, { reason: 'bad-latency' });
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      fail('EINVAL', `latency.${key} must be a finite number ≥ 0, not ${String(value)}.`, {
        reason: 'bad-latency',
      });
    }
    model[key as keyof LatencyModel] = value;
  }
  if (model.transferBytesPerNs <= 0)
    fail('EINVAL', 'latency.transferBytesPerNs must be above 0.', { reason: 'bad-latency' });
  return model;
}
