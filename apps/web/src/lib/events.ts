/**
 * What the dashboard knows about event kinds: every kind the wire allows (complete by construction, so a
 * new kind in the emulator fails the typecheck here), which ones are faults, and one line per event.
 */
import type { EventKind, WireEvent } from '@iommu-lab/client';
import { faultReason, formatFaultReason } from './fault-reason';

const KIND_GROUPS: Record<EventKind, 'fault' | 'dma' | 'topology' | 'cache' | 'process'> = {
  'iommu.added': 'topology',
  'device.added': 'topology',
  'device.reset': 'topology',
  'process.created': 'process',
  'process.mmap': 'process',
  'process.munmap': 'process',
  'process.mprotect': 'process',
  'process.page-fault': 'process',
  'process.reclaim': 'process',
  'process.exit': 'process',
  'domain.created': 'topology',
  'domain.destroyed': 'topology',
  'domain.attached': 'topology',
  'domain.detached': 'topology',
  'domain.mapped': 'topology',
  'domain.unmapped': 'topology',
  'feature.enabled': 'topology',
  'feature.disabled': 'topology',
  'iopf.enabled': 'topology',
  'iopf.disabled': 'topology',
  'pasid.allocated': 'topology',
  'pasid.freed': 'topology',
  'sva.bound': 'topology',
  'sva.unbound': 'topology',
  'iotlb.invalidated': 'cache',
  'atc.invalidated': 'cache',
  'dma.page': 'dma',
  'dma.completed': 'dma',
  'dma.faulted': 'dma',
  'dma.aborted': 'dma',
  'dma.retried': 'dma',
  'flow.ended': 'fault',
  'fault.unrecoverable': 'fault',
  'fault.reported': 'fault',
  'pri.page-request': 'fault',
  'pri.stop-marker': 'fault',
  'pri.credit-wait': 'fault',
  'pri.stop-marker-dropped': 'fault',
  'pri.response': 'fault',
  'pri.unexpected-response': 'fault',
  'iommu.queue-overflow': 'fault',
  'iommu.partials-discarded': 'fault',
  'fault.livelock': 'fault',
  'fault.partials-dropped': 'fault',
  'fault.group': 'fault',
  'fault.awaiting-client': 'fault',
  'fault.response': 'fault',
  'iommufd.read': 'fault',
  'iommufd.response': 'fault',
  'iommufd.vevent': 'fault',
  'fault.device-handled': 'fault',
  'stall.stalled': 'fault',
  'stall.resume': 'fault',
  'handler.mapped': 'fault',
  'handler.evicted': 'fault',
  'handler.registered': 'topology',
  'handler.unregistered': 'topology',
};

export const EVENT_KINDS = Object.keys(KIND_GROUPS) as EventKind[];
export const FAULT_KINDS = EVENT_KINDS.filter((kind) => KIND_GROUPS[kind] === 'fault');

/**
 * Kinds that change what the lab's snapshot says, the topology or that its system stopped (a livelock):
 * their arrival refreshes it.
 */
export function changesLabState(kind: string): boolean {
  const group = KIND_GROUPS[kind as EventKind];
  return group === 'topology' || group === 'process' || kind === 'fault.livelock';
}

/** One table row: the columns the stream shows, and a short detail for the rest. */
export interface EventRow {
  seq: number;
  timeNs: number;
  kind: string;
  device: string;
  pasid: string;
  address: string;
  category: string;
  stage: string;
  detail: string;
  /** The fault flows the event belongs to (`flow`, or `flows` for a group, a response, a retry, a DMA). */
  flows: readonly number[];
  /** The event as it came, for the detail pane. */
  event: WireEvent;
}

const NO_FLOWS: readonly number[] = [];

/** The flow ids an event names: its own `flow`, or the `flows` it groups, answers or resumes. */
export function flowsOf(event: WireEvent): readonly number[] {
  const record = event as Record<string, unknown>;
  if (typeof record.flow === 'number') return [record.flow];
  if (Array.isArray(record.flows)) return record.flows.filter((id): id is number => typeof id === 'number');
  return NO_FLOWS;
}

/** Whether two events share a flow (the highlight of the selected event's flow). */
export const sharesFlow = (a: readonly number[], b: readonly number[]): boolean =>
  a.length > 0 && b.some((id) => a.includes(id));

const str = (value: unknown) => (value === undefined || value === null ? '' : String(value));

function detailOf(event: WireEvent): string {
  switch (event.kind) {
    case 'fault.group':
      return `group ${str(event.group)}: ${str(event.faults)} fault(s) → ${str(event.handler)}`;
    case 'fault.awaiting-client':
      return `cookie ${str(event.cookie)} awaits an answer`;
    case 'fault.response':
      return `${str(event.code)} (${str(event.wireName)}) by ${str(event.cause)}`;
    case 'iommufd.read':
      return `fault object ${str(event.fault)}: user space read cookie ${str(event.cookie)}`;
    case 'iommufd.vevent':
      return `vEVENTQ ${str(event.veventq)}: ${event.lost ? 'lost (LOST_EVENTS)' : `event for vSID ${str(event.virtId)}`}, sequence ${str(event.sequence)}`;
    case 'iommufd.response':
      return `fault object ${str(event.fault)}: user space answered cookie ${str(event.cookie)} ${str(event.code)}`;
    case 'pri.page-request':
      return `PRG ${str(event.prgIndex)}${event.last ? ' last' : ''} ${str(event.perm)}`;
    case 'pri.response':
      return `PRG ${str(event.prgIndex)}: ${str(event.response)}`;
    case 'fault.livelock':
      return `${str(event.queue)} overflow storm: ${str(event.lostRequests)} lost for ${str(event.usefulFaults)} useful (bound ${str(event.bound)} per fault), system stopped`;
    case 'dma.completed':
      return `${str(event.access)} ${str(event.length)} B in ${str(event.latencyNs)} ns, ${str(event.recoveries)} recovered`;
    case 'dma.faulted':
      return `${str(event.access)}: ${str(event.error)}${event.fault ? ` (${str(event.fault)})` : ''}`;
    case 'fault.unrecoverable': {
      // The code as the hardware records it (VT-d FRCD.FR / SMMUv3 event ID) in hex, with its name.
      const reason = faultReason(event);
      const named = reason ? `${reason.what} ${formatFaultReason(reason)}` : str(event.codeName);
      return `${str(event.access)} ${str(event.fault)}: ${named}${event.lost ? ' (lost)' : ''}`;
    }
    case 'stall.stalled':
      return `stag ${str(event.stag)} ${str(event.event)}`;
    case 'stall.resume':
      return `stag ${str(event.stag)} ${str(event.action)} (${str(event.cause)})`;
    case 'process.page-fault':
      return `${str(event.process)} ${str(event.access)}: ${str(event.outcome)}`;
    case 'feature.enabled':
    case 'feature.disabled':
      return str(event.feature);
    case 'sva.bound':
      return `${str(event.process)} → PASID ${str(event.pasid)} (${str(event.domain)})`;
    default: {
      const skip = new Set(['seq', 'timeNs', 'kind', 'device', 'pasid', 'address', 'category', 'stage']);
      return Object.entries(event)
        .filter(
          ([key, value]) => !skip.has(key) && value !== null && value !== '' && typeof value !== 'object',
        )
        .slice(0, 4)
        .map(([key, value]) => `${key}=${str(value)}`)
        .join(' ');
    }
  }
}

function addressOf(event: WireEvent): string {
  if (typeof event.address === 'string') return event.address;
  if (typeof event.faultAddress === 'string') return event.faultAddress;
  if (typeof event.iova === 'string') return event.iova;
  const addresses = event.addresses ?? event.faults;
  if (Array.isArray(addresses) && addresses.length > 0) {
    const first = addresses[0] as unknown;
    const text = typeof first === 'string' ? first : str((first as { address?: string }).address);
    return addresses.length > 1 ? `${text} +${addresses.length - 1}` : text;
  }
  return '';
}

export function toRow(event: WireEvent): EventRow {
  return {
    seq: event.seq,
    timeNs: event.timeNs,
    kind: event.kind,
    device: str(event.device),
    pasid: event.pasid === null ? '—' : str(event.pasid),
    address: addressOf(event),
    category: str(event.category),
    stage: str(event.stage),
    detail: detailOf(event),
    flows: flowsOf(event),
    event,
  };
}

const MICROSECONDS = new Intl.NumberFormat('en-US', { minimumFractionDigits: 3, maximumFractionDigits: 3 });

/**
 * An event's simulated time for the table: µs with thousands separators and ns precision
 * (13225 → "13.225", 1234567891 → "1,234,567.891"), so neighbouring events stay apart and the column reads
 * at a glance; the header names the unit.
 */
export const formatEventTime = (ns: number): string => MICROSECONDS.format(ns / 1000);
