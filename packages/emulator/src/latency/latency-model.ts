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
}

export const DEFAULT_LATENCY: Readonly<LatencyModel> = {
  iotlbHitNs: 20,
  atcHitNs: 5,
  walkAccessNs: 150,
  atsRoundTripNs: 1500,
  transferBytesPerNs: 16,
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
