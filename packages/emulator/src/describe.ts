/**
 * A plain-JSON picture of a system: topology (IOMMUs, devices, domains, PASIDs, bonds, processes) and the
 * state a person inspects (feature and PRI state, cache occupancy). The API and dashboard show it; tests
 * compare two of them to prove that a refused call changed nothing.
 */
import { PAGE_SIZE, formatAddress } from './address';
import type { TranslationCache } from './cache/translation-cache';
import type { HardwareQueue } from './fault/hardware-queue';
import type { HandlerInfo } from './fault/handlers/fault-handler';
import { DmaDomain } from './domain/dma-domain';
import { NO_PASID } from './domain/domain';
import { NestedDomain } from './domain/nested-domain';
import { SvaDomain } from './domain/sva-domain';
import type { IommuCapabilities, IommuFamily } from './iommu/capabilities';
import { formatProt } from './pagetable/permissions';
import type { FaultCategory, KernelProfileName } from './profile/kernel-profile';
import type { System } from './system';
import type { Device, IopfAttach } from './device/device';
import { takesFaults } from './domain/attach';

export interface CacheSnapshot {
  entries: number;
  ways: number;
  replacement: string;
  valid: number;
  hits: number;
  misses: number;
  evictions: number;
}

export interface SystemSnapshot {
  timeNs: number;
  seed: number;
  memory: { frames: number; framesUsed: number };
  iommus: {
    id: string;
    family: IommuFamily;
    profile: KernelProfileName;
    capabilities: IommuCapabilities;
    devices: string[];
    iotlb: CacheSnapshot;
    faults: number;
    /** Fault categories the driver reports (the proposal's BIND / MAP); null where the profile has none. */
    faultCategories: FaultCategory[] | null;
    stalled: number;
  }[];
  devices: {
    id: string;
    iommu: string;
    kind: 'pci' | 'platform';
    rid: string;
    capabilities: {
      ats: boolean;
      priCapacity: number | null;
      pasidBits: number;
      stall: boolean;
      streamIds: number;
      managesOwnFaults: boolean;
    };
    features: string[];
    iopf: {
      enabled: boolean;
      /** mainline: references held by attached fault-capable domains (0 under the feature-call profiles). */
      users: number;
      /** mainline: the attachments holding those references, RID (pasid null) first, then by PASID. */
      holders: { domain: string; pasid: number | null }[];
      /** mainline: the attach that took the first reference and so switched faults on; null while off. */
      enabledBy: IopfAttach | null;
      pri: {
        enabled: boolean;
        allocation: number;
        outstanding: number;
        responseFailure: boolean;
        unexpectedPrgIndex: boolean;
        waitingBursts: number;
      };
      stall: boolean;
    };
    handlers: { slot: string; handler: HandlerInfo }[];
    domain: string | null;
    pasids: { pasid: number; domain: string }[];
    bonds: { process: string; pasid: number; refs: number }[];
    atc: CacheSnapshot | null;
  }[];
  domains: {
    id: string;
    iommu: string;
    type: string;
    stage: 1 | 2;
    nestParent?: boolean;
    parent?: string;
    process?: string;
    mappedBytes: number;
    attachments: { device: string; pasid: number | null }[];
    handler: HandlerInfo | null;
  }[];
  processes: {
    id: string;
    pid: number;
    pasid: number | null;
    exiting: boolean;
    vmas: { address: string; size: number; prot: string }[];
    residentPages: number;
    swappedPages: number;
    faults: { minor: number; major: number; errors: number };
  }[];
}

export interface QueueSnapshot {
  name: string;
  depth: number;
  length: number;
  /** Highest occupancy seen. */
  max: number;
  accepted: number;
  refused: number;
  overflow: boolean;
  /** [timeNs, occupancy] points: the highest per bin of the system's series (at most 1024), then now. */
  occupancy: [number, number][];
}

function queue(q: HardwareQueue<unknown>): QueueSnapshot {
  return {
    name: q.name,
    depth: q.depth,
    length: q.length,
    max: q.occupancy.max,
    accepted: q.accepted,
    refused: q.refused,
    overflow: q.overflow,
    occupancy: q.occupancy.points(),
  };
}

/** Hardware queues of every IOMMU: the page request queue and the fault / event queue. */
export function describeQueues(
  system: System,
): Record<string, { pageRequest: QueueSnapshot; fault: QueueSnapshot }> {
  return Object.fromEntries(
    [...system.iommus.values()].map((iommu) => [
      iommu.id,
      { pageRequest: queue(iommu.pageRequestQueue), fault: queue(iommu.faultQueue) },
    ]),
  );
}

function cache(c: TranslationCache): CacheSnapshot {
  return {
    entries: c.entries,
    ways: c.ways,
    replacement: c.replacement,
    valid: c.valid,
    hits: c.hits,
    misses: c.misses,
    evictions: c.evictions,
  };
}

function iopfHolders(device: Device): { domain: string; pasid: number | null }[] {
  const holders: { domain: string; pasid: number | null }[] = [];
  if (takesFaults(device.ridDomain)) holders.push({ domain: device.ridDomain.id, pasid: null });
  for (const [pasid, domain] of [...device.pasidDomains].sort(([a], [b]) => a - b))
    if (takesFaults(domain)) holders.push({ domain: domain.id, pasid });
  return holders;
}

export function describeSystem(system: System): SystemSnapshot {
  return {
    timeNs: system.nowNs,
    seed: system.options.seed,
    memory: { frames: system.env.memory.frames, framesUsed: system.env.memory.framesUsed },
    iommus: [...system.iommus.values()].map((iommu) => ({
      id: iommu.id,
      family: iommu.family,
      profile: iommu.profile.name,
      capabilities: iommu.caps,
      devices: [...iommu.devices.values()].map((device) => device.id),
      iotlb: cache(iommu.iotlb),
      faults: iommu.faultsTotal,
      faultCategories: iommu.faultCategories && [...iommu.faultCategories],
      stalled: iommu.stalled.size,
    })),
    devices: [...system.devices.values()].map((device) => ({
      id: device.id,
      iommu: device.iommu.id,
      kind: device.kind,
      rid: device.ridName,
      capabilities: {
        ats: device.caps.ats,
        priCapacity: device.caps.pri?.capacity ?? null,
        pasidBits: device.caps.pasidBits,
        stall: device.caps.stall,
        streamIds: device.caps.streamIds,
        managesOwnFaults: device.caps.managesOwnFaults,
      },
      features: [...device.features].sort(),
      iopf: {
        enabled: device.iopfEnabled,
        users: device.iopfUsers,
        holders: iopfHolders(device),
        enabledBy: device.iopfEnabledBy && { ...device.iopfEnabledBy },
        pri: {
          enabled: device.pri.enabled,
          allocation: device.pri.allocation,
          outstanding: device.faultState?.requester.outstanding ?? 0,
          responseFailure: device.pri.responseFailure,
          unexpectedPrgIndex: device.pri.unexpectedPrgIndex,
          waitingBursts: device.faultState?.requester.waiting.length ?? 0,
        },
        stall: device.stallEnabled,
      },
      // By slot, not by registration order: a slot is a category (or '*'), and which was filled first does
      // not change which handler gets a fault (a rebuilt system fills them in another order).
      handlers: [...device.faultHandlers]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([slot, handler]) => ({ slot, handler: handler.describe() })),
      domain: device.ridDomain.type === 'blocked' ? null : device.ridDomain.id,
      pasids: [...device.pasidDomains].map(([pasid, domain]) => ({ pasid, domain: domain.id })),
      bonds: [...device.bonds.values()].map((bond) => ({
        process: bond.process.id,
        pasid: bond.pasid,
        refs: bond.refs,
      })),
      atc: device.atc ? cache(device.atc) : null,
    })),
    domains: [...system.allDomains()].map((domain) => ({
      id: domain.id,
      iommu: domain.iommu.id,
      type: domain.type,
      stage: domain.stage,
      ...(domain instanceof DmaDomain ? { nestParent: domain.nestParent } : {}),
      ...(domain instanceof NestedDomain ? { parent: domain.parent.id } : {}),
      ...(domain instanceof SvaDomain ? { process: domain.process.id } : {}),
      mappedBytes:
        domain instanceof DmaDomain
          ? domain.pageTable.mappedPages * PAGE_SIZE
          : domain instanceof NestedDomain
            ? domain.stage1.mappedPages * PAGE_SIZE
            : 0,
      attachments: [...domain.attachments].map(({ device, pasid }) => ({
        device: device.id,
        pasid: pasid === NO_PASID ? null : pasid,
      })),
      handler: domain.faultHandler?.describe() ?? null,
    })),
    processes: [...system.processes.values()].map((process) => ({
      id: process.id,
      pid: process.pid,
      pasid: process.pasid ?? null,
      exiting: process.exiting,
      vmas: process.vmas.map((vma) => ({
        address: formatAddress(vma.startPage),
        size: (vma.endPage - vma.startPage) * PAGE_SIZE,
        prot: formatProt(vma.prot),
      })),
      residentPages: process.residentPages,
      swappedPages: process.swappedPages,
      faults: { ...process.faults },
    })),
  };
}
