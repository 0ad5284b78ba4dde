/**
 * Which layer of the I/O page-fault path emits each event kind, for the stream's kinds filter. Typed as a
 * Record over every kind the wire allows, so a new kind in the emulator fails the typecheck until it has a layer.
 */
import type { EventKind } from '@iommu-lab/client';

export const LAYERS = ['device', 'iommu', 'driver', 'handler', 'mm', 'flow', 'other'] as const;
export type Layer = (typeof LAYERS)[number];

/** What a person calls each layer, in the kinds filter's group headings. */
export const LAYER_TITLES: Record<Layer, string> = {
  device: 'Device (DMA, ATC)',
  iommu: 'IOMMU',
  driver: 'Driver (fault queue)',
  handler: 'Fault handler',
  mm: 'CPU memory (mm)',
  flow: 'Fault flows',
  other: 'Other',
};

export const KIND_LAYERS: Record<EventKind, Layer> = {
  'iommu.added': 'iommu',
  'device.added': 'device',
  'device.reset': 'device',
  'process.created': 'mm',
  'process.mmap': 'mm',
  'process.munmap': 'mm',
  'process.mprotect': 'mm',
  'process.page-fault': 'mm',
  'process.reclaim': 'mm',
  'process.exit': 'mm',
  'domain.created': 'iommu',
  'domain.destroyed': 'iommu',
  'domain.attached': 'iommu',
  'domain.detached': 'iommu',
  'domain.mapped': 'iommu',
  'domain.unmapped': 'iommu',
  'feature.enabled': 'iommu',
  'feature.disabled': 'iommu',
  'iopf.enabled': 'iommu',
  'iopf.disabled': 'iommu',
  'pasid.allocated': 'iommu',
  'pasid.freed': 'iommu',
  'sva.bound': 'mm',
  'sva.unbound': 'mm',
  'iotlb.invalidated': 'iommu',
  'atc.invalidated': 'device',
  'dma.page': 'device',
  'dma.completed': 'device',
  'dma.faulted': 'device',
  'dma.aborted': 'device',
  'dma.retried': 'device',
  'flow.ended': 'flow',
  'fault.unrecoverable': 'driver',
  'fault.reported': 'driver',
  'pri.page-request': 'iommu',
  'pri.stop-marker': 'iommu',
  'pri.credit-wait': 'iommu',
  'pri.stop-marker-dropped': 'iommu',
  'pri.response': 'iommu',
  'pri.unexpected-response': 'iommu',
  'iommu.queue-overflow': 'iommu',
  'iommu.partials-discarded': 'iommu',
  'fault.livelock': 'iommu',
  'fault.partials-dropped': 'driver',
  'fault.group': 'driver',
  'fault.awaiting-client': 'driver',
  'fault.response': 'driver',
  // The VMM reading and answering an iommufd fault object is the handler of those faults.
  'iommufd.read': 'handler',
  'iommufd.response': 'handler',
  // The host driver forwarding a guest device's event (arm_vmaster_report_event).
  'iommufd.vevent': 'driver',
  'fault.device-handled': 'driver',
  'stall.stalled': 'iommu',
  'stall.resume': 'iommu',
  'handler.mapped': 'handler',
  'handler.evicted': 'handler',
  'handler.registered': 'handler',
  'handler.unregistered': 'handler',
};

export const layerOf = (kind: string): Layer => KIND_LAYERS[kind as EventKind] ?? 'other';
