/**
 * The inverse of build-system.ts: a system's current topology as a config, read from the model itself
 * (IOMMUs, devices and their capabilities, features, processes and their VMAs, domains and what their
 * tables map, fault handlers, attachments, SVA bonds), so that buildSystem(exportConfig(system).config)
 * rebuilds the same topology. What a config cannot hold (residency, pages a handler mapped on demand,
 * cache contents, work in flight, …) is named in `omitted`, one sentence each.
 */
import { formatAddress, pagesPerEntry } from '../address';
import { DEFAULT_ATC } from '../device/device-capabilities';
import type { Device } from '../device/device';
import { svaNeedsIopf } from '../device/features';
import { DmaDomain } from '../domain/dma-domain';
import type { Domain } from '../domain/domain';
import { NestedDomain } from '../domain/nested-domain';
import { SvaDomain } from '../domain/sva-domain';
import type { FaultHandler } from '../fault/handlers/fault-handler';
import { ExternalFaultHandler } from '../fault/handlers/external-handler';
import { GuestFaultHandler } from '../fault/handlers/guest-handler';
import { MapFaultHandler, type MapRegion } from '../fault/handlers/map-handler';
import { SvaFaultHandler } from '../fault/handlers/sva-handler';
import { type Iommu, defaultFaultCategories } from '../iommu/iommu';
import { DEFAULT_LATENCY, type LatencyModel } from '../latency/latency-model';
import { DEFAULT_LIVELOCK, type LivelockOptions } from '../fault/livelock-detector';
import type { PageTable } from '../pagetable/page-table';
import { formatProt } from '../pagetable/permissions';
import type { FaultCategory } from '../profile/kernel-profile';
import type { System } from '../system';
import { type HandlerSpecConfig, SYSTEM_CONFIG_VERSION, type SystemConfig } from './system-config';

type Complete<T> = { [K in keyof T]-?: NonNullable<T[K]> };
export type ExportedConfig = Complete<SystemConfig>;

export interface ConfigExport {
  config: ExportedConfig;
  /** What the system has that the config leaves out, one sentence each. */
  omitted: string[];
}

const PAGE_SIZE_OF_SPAN: Record<number, '4K' | '2M' | '1G'> = {
  [pagesPerEntry(1)]: '4K',
  [pagesPerEntry(2)]: '2M',
  [pagesPerEntry(3)]: '1G',
};

/** A byte count of whole pages as a hex string (exact past 2^53 bytes). */
const bytesOf = (pages: number) => formatAddress(pages);

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function exportConfig(system: System): ConfigExport {
  const omitted: string[] = [];
  const processes = [...system.processes.values()].filter((process) => {
    if (process.exiting) omitted.push(`process ${process.id} has exited; it is left out with its bonds.`);
    return !process.exiting;
  });
  const config: ExportedConfig = {
    version: SYSTEM_CONFIG_VERSION,
    options: exportOptions(system),
    iommus: [...system.iommus.values()].map(exportIommu),
    devices: [...system.devices.values()].map(exportDevice),
    processes: processes.map((process) => ({
      id: process.id,
      ...(process.pageTable.levels === 5 ? { fiveLevel: true } : {}),
      vmas: process.vmas.map((vma) => ({
        address: formatAddress(vma.startPage),
        size: bytesOf(vma.endPage - vma.startPage),
        prot: formatProt(vma.prot),
      })),
    })),
    domains: [],
    mappings: [],
    features: [],
    attachments: [],
    bindings: [],
    handlers: [],
  };
  for (const process of processes) {
    if (process.residentPages > 0)
      omitted.push(
        `process ${process.id}: ${process.residentPages} resident page(s) start not present (residency is state, not topology).`,
      );
    if (process.swappedPages > 0)
      omitted.push(
        `process ${process.id}: ${process.swappedPages} reclaimed page(s) start never touched (minor faults, not major).`,
      );
  }

  const handlers = [...system.devices.values()].flatMap((device) => [...device.faultHandlers.values()]);
  for (const domain of system.allDomains()) {
    if (domain instanceof SvaDomain) continue;
    config.domains.push({
      id: domain.id,
      iommu: domain.iommu.id,
      type: domain.type as 'dma',
      ...(domain instanceof DmaDomain && domain.nestParent ? { nestParent: true } : {}),
      ...(domain instanceof DmaDomain && !domain.nestParent ? { stage: domain.stage } : {}),
      ...(domain instanceof NestedDomain ? { parent: domain.parent.id } : {}),
    });
    const table =
      domain instanceof DmaDomain ? domain.pageTable : domain instanceof NestedDomain ? domain.stage1 : null;
    if (table) {
      const onDemand = onDemandPages(domain, table, [...handlers, domain.faultHandler]);
      if (onDemand.size > 0)
        omitted.push(
          `domain ${domain.id}: ${onDemand.size} page(s) its fault handler mapped on demand start unmapped.`,
        );
      config.mappings.push(...exportMappings(domain.id, table, onDemand));
    }
    if (domain.faultHandler)
      config.handlers.push({ domain: domain.id, handler: handlerSpec(domain.faultHandler, null) });
  }

  const { bindings, pasidOf } = exportBindings(system, omitted);
  for (const device of system.devices.values()) {
    for (const feature of device.features) config.features.push({ device: device.id, feature });
    config.handlers.push(...exportDeviceHandlers(device, omitted));
    config.attachments.push(...exportAttachments(device, pasidOf, omitted));
  }
  config.bindings = bindings;
  omitted.push(...runtimeState(system));
  return { config, omitted };
}

function exportOptions(system: System): ExportedConfig['options'] {
  const latency = system.env.latency;
  const changed = (Object.keys(DEFAULT_LATENCY) as (keyof LatencyModel)[]).filter(
    (key) => latency[key] !== DEFAULT_LATENCY[key],
  );
  const livelock = system.faults.livelockOptions;
  const livelockChanged = (Object.keys(DEFAULT_LIVELOCK) as (keyof LivelockOptions)[]).filter(
    (key) => livelock[key] !== DEFAULT_LIVELOCK[key],
  );
  return {
    ...system.options,
    ...(changed.length > 0 ? { latency: Object.fromEntries(changed.map((key) => [key, latency[key]])) } : {}),
    ...(livelockChanged.length > 0
      ? { livelock: Object.fromEntries(livelockChanged.map((key) => [key, livelock[key]])) }
      : {}),
  };
}

function exportIommu(iommu: Iommu): ExportedConfig['iommus'][number] {
  const defaults = iommu.model.defaults;
  const capabilities = Object.fromEntries(
    Object.entries(iommu.caps).filter(([key, value]) => !same(value, defaults[key as keyof typeof defaults])),
  );
  return {
    id: iommu.id,
    family: iommu.family,
    profile: iommu.profile.name,
    ...(Object.keys(capabilities).length > 0 ? { capabilities } : {}),
    ...(iommu.faultCategories === null || same(iommu.faultCategories, defaultFaultCategories(iommu.caps))
      ? {}
      : { driver: { faultCategories: [...iommu.faultCategories] } }),
  };
}

/** A device spec with the capabilities that differ from addDevice's defaults. */
function exportDevice(device: Device): ExportedConfig['devices'][number] {
  const { caps } = device;
  const prgDefault = caps.pri !== null && caps.pasidBits > 0;
  return {
    id: device.id,
    iommu: device.iommu.id,
    ...(caps.kind === 'platform' ? { kind: 'platform' as const } : {}),
    rid: device.rid,
    ...(caps.ats ? { ats: true } : {}),
    ...(caps.pri ? { pri: { capacity: caps.pri.capacity } } : {}),
    ...(caps.pasidBits > 0 ? { pasidBits: caps.pasidBits } : {}),
    ...(caps.prgResponsePasidRequired !== prgDefault
      ? { prgResponsePasidRequired: caps.prgResponsePasidRequired }
      : {}),
    ...(caps.stall ? { stall: true } : {}),
    ...(caps.streamIds !== 1 ? { streamIds: caps.streamIds } : {}),
    ...(caps.managesOwnFaults ? { managesOwnFaults: true } : {}),
    ...(same(caps.atc, DEFAULT_ATC) ? {} : { atc: { ...caps.atc } }),
  };
}

/** Pages of the table that a fault handler mapped on demand and that are still mapped. */
function onDemandPages(domain: Domain, table: PageTable, handlers: (FaultHandler | null)[]): Set<number> {
  const pages = new Set<number>();
  for (const handler of new Set(handlers))
    for (const page of handler?.onDemandPages?.(domain) ?? [])
      if (table.firstMappedIn(page, 1) >= 0) pages.add(page);
  return pages;
}

/** The table's leaves as mappings: runs of leaves of one size, contiguous in IOVA and frames, same prot. */
function exportMappings(domain: string, table: PageTable, skip: Set<number>): ExportedConfig['mappings'] {
  const runs: { page: number; pfn: number; pages: number; perms: number; span: number }[] = [];
  table.forEachLeaf((page, pfn, span, perms) => {
    if (span === 1 && skip.has(page)) return;
    const last = runs.at(-1);
    if (
      last &&
      last.span === span &&
      last.perms === perms &&
      last.page + last.pages === page &&
      last.pfn + last.pages === pfn
    )
      last.pages += span;
    else runs.push({ page, pfn, pages: span, perms, span });
  });
  return runs.map((run) => ({
    domain,
    iova: formatAddress(run.page),
    size: bytesOf(run.pages),
    phys: formatAddress(run.pfn),
    prot: formatProt(run.perms),
    pageSize: PAGE_SIZE_OF_SPAN[run.span]!,
  }));
}

function regionSpec(region: MapRegion) {
  return {
    iova: formatAddress(region.startPage),
    size: bytesOf(region.pages),
    ...(region.physPage === undefined ? {} : { phys: formatAddress(region.physPage) }),
    prot: formatProt(region.perms),
  };
}

/** The spec that registers this handler again; `categories` only where the profile has them. */
function handlerSpec(handler: FaultHandler, categories: FaultCategory[] | null): HandlerSpecConfig {
  const withCategories = categories ? { categories } : {};
  if (handler instanceof ExternalFaultHandler)
    return {
      type: 'external',
      ...withCategories,
      timeoutNs: handler.timeoutNs,
      timeoutResponse: handler.timeoutResponse,
    };
  if (handler instanceof MapFaultHandler)
    return {
      type: 'map',
      ...withCategories,
      region: regionSpec(handler.region),
      pinBudgetPages: handler.pinBudgetPages,
    };
  if (handler instanceof GuestFaultHandler) return { type: 'guest', region: regionSpec(handler.region) };
  if (handler instanceof SvaFaultHandler) return { type: 'sva', ...withCategories };
  throw new Error(`no spec for a ${handler.type} handler`);
}

function exportDeviceHandlers(device: Device, omitted: string[]): ExportedConfig['handlers'] {
  const slots = new Map<FaultHandler, FaultCategory[]>();
  for (const [slot, handler] of device.faultHandlers) {
    // The kernel's SVA handler comes with the SVA feature.
    if (handler === device.iommu.svaHandler) continue;
    if (!slots.has(handler)) slots.set(handler, []);
    if (slot !== '*') slots.get(handler)!.push(slot);
  }
  const kernelTakesBind =
    device.features.has('SVA') && svaNeedsIopf(device) && device.iommu.profile.categoryHandlers;
  return [...slots].flatMap(([handler, slotsHeld]) => {
    let categories = slotsHeld;
    // A config enables features before it registers handlers, so SVA's kernel handler takes BIND first.
    if (kernelTakesBind && categories.includes('BIND')) {
      omitted.push(
        `device ${device.id}: its ${handler.type} handler's BIND faults, taken before SVA was enabled, go to the kernel's SVA handler when rebuilt (a config registers handlers after features).`,
      );
      categories = categories.filter((category) => category !== 'BIND');
      if (categories.length === 0) return [];
    }
    return [{ device: device.id, handler: handlerSpec(handler, categories.length > 0 ? categories : null) }];
  });
}

function exportAttachments(
  device: Device,
  pasidOf: Map<string, number>,
  omitted: string[],
): ExportedConfig['attachments'] {
  const attachments: ExportedConfig['attachments'] = [];
  if (device.ridDomain !== device.iommu.blockedDomain) {
    if (device.ridDomain instanceof SvaDomain)
      omitted.push(`device ${device.id}: the SVA domain at its requester ID is left out.`);
    else attachments.push({ device: device.id, domain: device.ridDomain.id });
  }
  const bonded = new Set([...device.bonds.values()].map((bond) => bond.domain));
  // A config binds after it attaches: a PASID a binding will take cannot also be attached.
  const boundPasids = new Set([...device.bonds.values()].map((bond) => pasidOf.get(bond.process.id)));
  for (const [pasid, domain] of [...device.pasidDomains].sort(([a], [b]) => a - b)) {
    // SVA domains at a PASID come from the bindings.
    if (domain instanceof SvaDomain) {
      if (!bonded.has(domain))
        omitted.push(`device ${device.id}: SVA domain ${domain.id} at PASID ${pasid} has no bond; left out.`);
      continue;
    }
    if (boundPasids.has(pasid)) {
      omitted.push(
        `device ${device.id}: domain ${domain.id} at PASID ${pasid} is left out; an SVA binding takes that PASID when rebuilt.`,
      );
      continue;
    }
    attachments.push({ device: device.id, domain: domain.id, pasid });
  }
  return attachments;
}

/**
 * Bonds in the order of their processes' PASIDs (allocated lowest first), one binding per reference, and
 * the PASID each bound process gets when rebuilt; one numbered differently from now is said.
 */
function exportBindings(
  system: System,
  omitted: string[],
): { bindings: ExportedConfig['bindings']; pasidOf: Map<string, number> } {
  const bonds = [...system.devices.values()]
    .flatMap((device) => [...device.bonds.values()].map((bond) => ({ device, bond })))
    .filter(({ bond }) => !bond.process.exiting)
    .sort((a, b) => a.bond.pasid - b.bond.pasid);
  const renumbered = new Map<string, number>();
  for (const { bond } of bonds)
    if (!renumbered.has(bond.process.id)) renumbered.set(bond.process.id, renumbered.size + 1);
  for (const process of system.processes.values())
    if (!process.exiting && process.pasid !== undefined && !renumbered.has(process.id))
      omitted.push(
        `process ${process.id}: PASID ${process.pasid}, kept from a bond since unbound, is not held (rebuilt, it has none until bound).`,
      );
  for (const [process, pasid] of renumbered) {
    const original = system.process(process).pasid;
    if (original !== pasid)
      omitted.push(
        `process ${process}: PASID ${original} becomes ${pasid} when rebuilt (PASIDs are allocated lowest first).`,
      );
  }
  const bindings = bonds.flatMap(({ device, bond }) =>
    Array.from({ length: bond.refs }, () => ({ device: device.id, process: bond.process.id })),
  );
  return { bindings, pasidOf: renumbered };
}

function runtimeState(system: System): string[] {
  const notes: string[] = [];
  const iotlb = [...system.iommus.values()].reduce((sum, iommu) => sum + iommu.iotlb.valid, 0);
  const atc = [...system.devices.values()].reduce((sum, device) => sum + (device.atc?.valid ?? 0), 0);
  if (iotlb + atc > 0)
    notes.push(`cache contents: ${iotlb} IOTLB and ${atc} ATC entries (caches start empty).`);
  if (system.transactionsInFlight > 0)
    notes.push(`${system.transactionsInFlight} DMA transaction(s) in flight.`);
  const waiting = system.pendingFaults().length;
  if (waiting > 0) notes.push(`${waiting} page request group(s) waiting for an outside handler.`);
  return notes;
}
