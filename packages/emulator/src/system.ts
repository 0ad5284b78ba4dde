/**
 * A whole emulated system and its public API. Callers (the API server, tests, benchmarks) use only this:
 * it names things by string id, takes addresses as bigint or hex strings, checks everything a user could
 * get wrong before changing anything, and delegates each rule to the module named for it
 * (attach.ts, features.ts, sva-bind.ts, dma-engine.ts, …).
 */
import {
  type AddressInput,
  PAGE_SIZE,
  type PageSizeName,
  formatAddress,
  pagesOf,
  parseSize,
  splitAddress,
} from './address';
import {
  type AttachSpec,
  type DeviceSpec,
  DeviceSpecSchema,
  type DomainSpec,
  type HandlerSpecConfig as HandlerSpec,
  HandlerSpecSchema,
  DomainSpecSchema,
  type IommuSpec,
  IommuSpecSchema,
  type MappingSpec,
  MappingSpecSchema,
  type ProcessSpec,
  ProcessSpecSchema,
  type SystemOptions,
  SystemOptionsSchema,
  type VmaSpec,
  VmaSpecSchema,
  validate,
} from './config/system-config';
import { DEFAULT_ATC, type DeviceCapabilities } from './device/device-capabilities';
import { DEVICE_FEATURES, Device, type DeviceFeature } from './device/device';
import { disableFeature, enableFeature } from './device/features';
import { parseRid } from './device/requester-id';
import { attachDomain, detachDomain } from './domain/attach';
import { DmaDomain } from './domain/dma-domain';
import { BlockedDomain, type Domain, IdentityDomain, NO_PASID } from './domain/domain';
import { NestedDomain } from './domain/nested-domain';
import { SvaDomain } from './domain/sva-domain';
import { DmaEngine } from './dma/dma-engine';
import type { DmaRequest, Transaction } from './dma/transaction';
import { fail } from './errors';
import type { IommuCapabilities } from './iommu/capabilities';
import { FAMILY_MODELS } from './iommu/family';
import { Iommu } from './iommu/iommu';
import { Iommufd } from './iommufd/iommufd';
import { newTranslation } from './iommu/translation';
import { resolveLatency } from './latency/latency-model';
import { PhysicalMemory } from './memory/physical-memory';
import { Metrics, type MetricsSnapshot } from './metrics/metrics';
import type { SeriesQuery, SimSeriesAnswer } from './metrics/sim-series';
import { type WalkStep, newWalkResult } from './pagetable/page-table';
import type { PteFormat } from './pagetable/pte-decode';
import { ACCESS_BIT, type Access, formatProt, parseProt } from './pagetable/permissions';
import { type MmFaultOutcome, Process } from './process/process';
import { kernelProfile, requireInProfile } from './profile/kernel-profile';
import type { SimEnvironment } from './sim/environment';
import { EventBus, type AnyListener, type Listener } from './sim/event-bus';
import type { EventKind } from './sim/events';
import { Random } from './sim/random';
import { Scheduler } from './sim/scheduler';
import { PasidAllocator } from './sva/pasid-allocator';
import { type SvaContext, dropProcessPasid, svaBind, svaUnbind } from './sva/sva-bind';
import { type SystemSnapshot, describeQueues, describeSystem } from './describe';
import { FaultPath, type Livelock } from './fault/fault-path';
import { DEFAULT_LIVELOCK } from './fault/livelock-detector';
import { HOPS } from './flow/fault-flow';
import {
  type HandlerSpec as RegistrySpec,
  registerDeviceHandler,
  setDomainHandler,
  unregisterDeviceHandler,
} from './fault/handler-registry';
import type { HandlerInfo } from './fault/handlers/fault-handler';
import { RESPONSE_CODES, type ResponseCode } from './fault/page-request';
import type { FaultCategory } from './profile/kernel-profile';
import { type WorkloadProgress, WorkloadRun } from './workload/workload-runner';
import type { WorkloadSpec } from './workload/workload-spec';
import { type AttachContext } from './domain/attach';
import {
  FAIL_DOMAIN,
  FailNth,
  type FailNthCounter,
  type FailNthKind,
  type FailNthSpec,
} from './injection/fail-nth';
import {
  type InjectedPageRequest,
  type PageRequestSpec,
  injectPageRequest,
} from './injection/page-request-injection';

export const DEFAULT_MEMORY_FRAMES = 2 ** 20;

export interface DmaSpec {
  device: string;
  pasid?: number;
  address: AddressInput;
  length: number;
  access: Access;
  privileged?: boolean;
  /** Bytes a write stores (length must match). */
  data?: Uint8Array;
  /** Keep the bytes a read returns (transaction.readBack). */
  returnData?: boolean;
  /** Called once when the transaction ends. */
  onEnd?: (transaction: Transaction) => void;
}

export type SystemMetrics = MetricsSnapshot & { queues: ReturnType<typeof describeQueues> };

/** A page request group waiting for an outside client's answer. */
export interface PendingFault {
  cookie: number;
  device: string;
  pasid: number | null;
  category: FaultCategory | null;
  stage: 1 | 2;
  faults: { address: string; perm: string }[];
  sinceNs: number;
}

export interface InvalidateIotlbSpec {
  domain?: string;
  pasid?: number;
  iova?: AddressInput;
  size?: number | string;
}

export interface Translated {
  phys: string;
  prot: string;
  pageSize: PageSizeName;
}

const LEAF_NAMES: Record<number, PageSizeName> = { 1: '4K', 2: '2M', 3: '1G' };
const ID_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

export class System {
  readonly env: SimEnvironment;
  readonly iommus = new Map<string, Iommu>();
  readonly devices = new Map<string, Device>();
  readonly processes = new Map<string, Process>();
  readonly options: Required<Omit<SystemOptions, 'latency' | 'livelock'>>;
  readonly faults: FaultPath;
  private readonly dmaEngine: DmaEngine;
  private readonly pasids: PasidAllocator;
  private readonly sva: SvaContext;
  private readonly attachContext: AttachContext;
  private iommufdContext: Iommufd | null = null;
  private nextTag = 1;
  private nextPid = 100;
  private readonly autoNames = { iommu: 0, dev: 0, dom: 0, proc: 0 };

  constructor(options: SystemOptions = {}) {
    validate(SystemOptionsSchema, options, 'system options');
    this.options = {
      seed: options.seed ?? 1,
      memoryFrames: options.memoryFrames ?? DEFAULT_MEMORY_FRAMES,
      pasidBits: options.pasidBits ?? 20,
    };
    const scheduler = new Scheduler();
    this.env = {
      scheduler,
      bus: new EventBus(() => scheduler.nowNs),
      random: new Random(this.options.seed),
      memory: new PhysicalMemory(this.options.memoryFrames),
      latency: resolveLatency(options.latency),
      metrics: new Metrics(scheduler),
      failNth: new FailNth(),
    };
    this.faults = new FaultPath(this.env, { ...DEFAULT_LIVELOCK, ...options.livelock });
    this.dmaEngine = new DmaEngine(this.env, this.faults);
    this.pasids = new PasidAllocator(this.options.pasidBits);
    this.attachContext = {
      bus: this.env.bus,
      onDetach: (device, pasid, domain, replaced) => this.faults.detached(device, pasid, domain, replaced),
    };
    this.sva = {
      ...this.attachContext,
      pasids: this.pasids,
      failNth: this.env.failNth,
      newDomainIdentity: () => ({
        id: this.newName('dom', (name) => this.findDomain(name) !== undefined),
        tag: this.nextTag++,
      }),
    };
  }

  /** The system's /dev/iommu, opened on first use: the objects a VMM allocates (iommufd/iommufd.ts). */
  get iommufd(): Iommufd {
    return (this.iommufdContext ??= new Iommufd(this, this.env));
  }

  // ——— time and events ———

  get nowNs(): number {
    return this.env.scheduler.nowNs;
  }

  get pendingEvents(): number {
    return this.env.scheduler.pending;
  }

  get transactionsInFlight(): number {
    return this.dmaEngine.inFlight;
  }

  /** The page request queue overflow storm that stopped the system, if one did (nothing runs after it). */
  get livelock(): Livelock | null {
    return this.faults.livelock;
  }

  step(): boolean {
    return this.env.scheduler.step();
  }

  /** Simulated time of the next event that will run, or undefined when nothing is scheduled. */
  nextEventTime(): number | undefined {
    return this.env.scheduler.nextEventTime();
  }

  runUntilIdle(maxEvents?: number): number {
    return this.env.scheduler.runUntilIdle(maxEvents);
  }

  runUntil(timeNs: number): number {
    return this.env.scheduler.runUntil(timeNs);
  }

  on<K extends EventKind>(kind: K, listener: Listener<K>): () => void {
    return this.env.bus.on(kind, listener);
  }

  onAny(listener: AnyListener): () => void {
    return this.env.bus.onAny(listener);
  }

  /** Calls `action` at simulated time `atNs` (for drivers of the system, such as workloads). */
  schedule(atNs: number, action: () => void): void {
    this.env.scheduler.schedule(atNs, action);
  }

  metrics(): SystemMetrics {
    return { ...this.env.metrics.snapshot(), queues: describeQueues(this) };
  }

  /** Metrics as series binned in simulated time (metrics/sim-series.ts); EINVAL for too many bins. */
  series(query: SeriesQuery = {}): SimSeriesAnswer {
    return this.env.metrics.series.answer(query);
  }

  /** The latency histograms' bins ([lower bound, count]), for storing a run and comparing runs bin by bin. */
  histograms(): Record<string, [number, number][]> {
    const { metrics } = this.env;
    return {
      dmaLatencyNs: metrics.system.dmaLatency.bins(),
      faultLatencyNs: metrics.system.faults.latency.bins(),
      faultHandlingNs: metrics.system.faults.handlingLatency.bins(),
      translationLatencyNs: metrics.translationLatency.bins(),
      // Each hop of the fault flows, so runs compare hop by hop (flow/fault-flow.ts HOPS).
      ...Object.fromEntries(
        HOPS.flatMap((hop, i) => {
          const histogram = metrics.hopLatency[i]!;
          return histogram.count > 0 ? [[`hop.${hop}Ns`, histogram.bins()]] : [];
        }),
      ),
    };
  }

  describe(): SystemSnapshot {
    return describeSystem(this);
  }

  // ——— IOMMUs and devices ———

  addIommu(spec: IommuSpec): Iommu {
    validate(IommuSpecSchema, spec, 'iommu');
    const id = this.claimName(spec.id, 'iommu', (name) => this.iommus.has(name));
    const model = FAMILY_MODELS[spec.family];
    const profile = kernelProfile(spec.profile);
    const caps: IommuCapabilities = { ...model.defaults, ...spec.capabilities };
    if (caps.stall && !model.stalls)
      fail('EINVAL', `${model.label} has no stall model; stall is an SMMUv3 capability.`, {
        reason: 'bad-capability',
      });
    if (!caps.pageSizes.includes('4K'))
      fail('EINVAL', 'page sizes must include 4K.', { reason: 'bad-capability' });
    requireInProfile(
      profile,
      spec.driver === undefined || profile.categoryHandlers,
      'a driver that reports fault categories (driver.faultCategories)',
    );
    const iommu = new Iommu(id, model, profile, caps, this.env, this.nextTag++, spec.driver?.faultCategories);
    this.iommus.set(id, iommu);
    this.env.bus.emit({ kind: 'iommu.added', iommu: id, family: spec.family, profile: profile.name });
    return iommu;
  }

  addDevice(spec: DeviceSpec): Device {
    validate(DeviceSpecSchema, spec, 'device');
    const iommu = this.iommu(spec.iommu);
    const kind = spec.kind ?? 'pci';
    if (kind === 'platform' && !iommu.model.platformDevices) {
      fail('EINVAL', `${iommu.model.label} has no platform devices; use a PCIe function.`, {
        reason: 'bad-device-kind',
      });
    }
    const pasidBits = spec.pasidBits ?? 0;
    const caps: DeviceCapabilities = {
      kind,
      ats: spec.ats ?? false,
      pri: spec.pri ?? null,
      pasidBits,
      prgResponsePasidRequired: spec.prgResponsePasidRequired ?? (spec.pri !== undefined && pasidBits > 0),
      stall: spec.stall ?? false,
      streamIds: spec.streamIds ?? 1,
      managesOwnFaults: spec.managesOwnFaults ?? false,
      atc: spec.atc ?? DEFAULT_ATC,
    };
    if (kind === 'pci' && caps.stall)
      fail('EINVAL', 'a PCIe function cannot stall; stall is for platform devices behind SMMUv3.', {
        reason: 'bad-capability',
      });
    if (kind === 'platform' && (caps.ats || caps.pri))
      fail('EINVAL', 'ATS and PRI are PCIe capabilities; a platform device has neither.', {
        reason: 'bad-capability',
      });
    if (caps.pri && !caps.ats)
      fail('EINVAL', 'PRI needs ATS: page requests are answered with translations the device caches.', {
        reason: 'bad-capability',
      });
    const rid = spec.rid === undefined ? this.freeRid(iommu, kind) : parseRid(spec.rid, kind);
    const holder = iommu.devices.get(rid);
    if (holder)
      fail('EEXIST', `requester id ${holder.ridName} is taken by ${holder.id} on ${iommu.id}.`, {
        reason: 'rid-taken',
      });
    const id = this.claimName(spec.id, 'dev', (name) => this.devices.has(name));
    const device = new Device(id, iommu, rid, caps, this.env);
    iommu.devices.set(rid, device);
    this.devices.set(id, device);
    this.env.bus.emit({
      kind: 'device.added',
      device: id,
      iommu: iommu.id,
      rid: device.ridName,
      deviceKind: kind,
    });
    return device;
  }

  /**
   * A function-level reset: in-flight DMA ends with an error, the ATC is emptied and PRI's error status
   * (Response Failure, Unexpected PRG Index) is cleared, so page requests flow again.
   */
  resetDevice(id: string): void {
    const device = this.device(id);
    const aborted = this.dmaEngine.abortDevice(device, 'reset');
    this.faults.resetDevice(device);
    device.iommu.flushDeviceAtc(device, null, 0, Number.POSITIVE_INFINITY, 'reset');
    device.pri.responseFailure = false;
    device.pri.unexpectedPrgIndex = false;
    this.env.bus.emit({ kind: 'device.reset', device: id, aborted });
  }

  enableFeature(deviceId: string, feature: DeviceFeature): void {
    enableFeature(this.device(deviceId), this.checkFeature(feature), this.env.bus);
  }

  disableFeature(deviceId: string, feature: DeviceFeature): void {
    disableFeature(this.device(deviceId), this.checkFeature(feature), this.env.bus);
  }

  // ——— processes ———

  createProcess(spec: ProcessSpec = {}): Process {
    validate(ProcessSpecSchema, spec, 'process');
    const id = this.claimName(spec.id, 'proc', (name) => this.processes.has(name));
    const process = new Process(id, this.nextPid++, this.env.memory, this.env.bus, spec.fiveLevel ? 5 : 4);
    process.pageFlows = this.faults.flows;
    this.processes.set(id, process);
    this.env.bus.emit({ kind: 'process.created', process: id, pid: process.pid });
    return process;
  }

  mmap(processId: string, spec: VmaSpec): { address: string; size: number; prot: string } {
    validate(VmaSpecSchema, spec, 'vma');
    const process = this.process(processId);
    const prot = parseProt(spec.prot, { allowPrivileged: false });
    const pages = this.pageCount(spec.size);
    const start = spec.address === undefined ? undefined : this.alignedPage(spec.address, 'address');
    const vma = process.mmap(start, pages, prot);
    return {
      address: formatAddress(vma.startPage),
      size: (vma.endPage - vma.startPage) * PAGE_SIZE,
      prot: formatProt(vma.prot),
    };
  }

  munmap(processId: string, address: AddressInput, size: number | string): void {
    const process = this.process(processId);
    process.munmap(this.alignedPage(address, 'address'), this.pageCount(size));
  }

  mprotect(processId: string, address: AddressInput, size: number | string, prot: string): void {
    const process = this.process(processId);
    const bits = parseProt(prot, { allowPrivileged: false });
    process.mprotect(this.alignedPage(address, 'address'), this.pageCount(size), bits);
  }

  /** A CPU access by the process itself: faults the page in like handle_mm_fault (or says why not). */
  touch(processId: string, address: AddressInput, access: Access): MmFaultOutcome {
    const process = this.process(processId);
    return process.handleMmFault(splitAddress(address).page, this.accessBit(access));
  }

  /** A CPU store of bytes into the process's memory. */
  writeProcess(processId: string, address: AddressInput, bytes: Uint8Array): void {
    const process = this.process(processId);
    const { page, offset } = splitAddress(address);
    process.write(page, offset, bytes, ACCESS_BIT.write);
  }

  /** Faults every page of a range in (as MAP_POPULATE would); the whole range must be inside VMAs. */
  populate(processId: string, address: AddressInput, size: number | string): number {
    const process = this.process(processId);
    const start = this.alignedPage(address, 'address');
    const pages = this.pageCount(size);
    for (let page = start; page < start + pages; page++) {
      if (!process.findVma(page))
        fail('EFAULT', `${formatAddress(page)} is not inside a VMA of ${processId}.`, { reason: 'no-vma' });
    }
    // Refused before any page changes: the frames it needs (the pages, plus page-table pages at worst).
    const missing = process.missingPages(start, pages);
    const tables = missing === 0 ? 0 : Math.ceil(missing / 512) + 4;
    if (missing + tables > this.env.memory.framesFree)
      fail('ENOMEM', `populating ${missing} pages of ${processId} needs more memory than is free.`, {
        reason: 'out-of-memory',
      });
    let faulted = 0;
    for (let page = start; page < start + pages; page++) {
      const outcome = process.handleMmFault(page, 0);
      if (outcome === 'oom')
        fail('ENOMEM', `out of memory populating ${formatAddress(page)}.`, { reason: 'out-of-memory' });
      if (outcome !== 'present') faulted++;
    }
    return faulted;
  }

  reclaim(processId: string, address: AddressInput, size: number | string): number {
    const process = this.process(processId);
    return process.reclaim(this.alignedPage(address, 'address'), this.pageCount(size));
  }

  exitProcess(processId: string): void {
    const process = this.process(processId);
    process.exit();
    this.faults.flows.spaceGone(process);
    dropProcessPasid(process, this.sva);
  }

  // ——— domains ———

  createDomain(spec: DomainSpec): Domain {
    validate(DomainSpecSchema, spec, 'domain');
    const iommu = this.iommu(spec.iommu);
    if (spec.type !== 'dma' && (spec.nestParent !== undefined || spec.stage !== undefined)) {
      fail('EINVAL', 'nestParent and stage apply to dma domains only.', { reason: 'bad-domain-spec' });
    }
    if (spec.type !== 'nested' && spec.parent !== undefined)
      fail('EINVAL', 'parent applies to nested domains only.', { reason: 'bad-domain-spec' });
    let domain: Domain;
    let parent: DmaDomain | undefined;
    if (spec.type === 'dma' || spec.type === 'nested') {
      if ((spec.type === 'nested' || spec.nestParent) && !iommu.caps.nesting) {
        fail('EOPNOTSUPP', `${iommu.id} has no nested translation.`, { reason: 'no-nesting' });
      }
      if (spec.nestParent && spec.stage === 1)
        fail('EINVAL', 'a nest parent is a stage-2 domain.', { reason: 'bad-domain-spec' });
    }
    if (spec.type === 'nested') {
      if (spec.parent === undefined)
        fail('EINVAL', 'a nested domain needs a parent (its stage-2 DMA domain).', { reason: 'no-parent' });
      const candidate = this.domain(spec.parent);
      if (candidate.iommu !== iommu)
        fail('EINVAL', `parent ${candidate.id} is on ${candidate.iommu.id}, not ${iommu.id}.`, {
          reason: 'foreign-domain',
        });
      if (!(candidate instanceof DmaDomain) || !candidate.nestParent) {
        fail('EINVAL', `parent ${candidate.id} must be a DMA domain created with nestParent.`, {
          reason: 'not-nest-parent',
        });
      }
      parent = candidate;
    }
    const taken = (name: string) => this.findDomain(name) !== undefined;
    // A name of the caller's is refused before the allocation, which fail-nth may make fail; then it is taken.
    const requested = spec.id === undefined ? undefined : this.claimName(spec.id, 'dom', taken);
    if (!this.env.failNth.allocates(FAIL_DOMAIN))
      fail('ENOMEM', `allocating a ${spec.type} domain on ${iommu.id} failed (fail-nth).`, {
        reason: 'fail-nth',
      });
    const id = requested ?? this.claimName(undefined, 'dom', taken);
    const tag = this.nextTag++;
    switch (spec.type) {
      case 'blocked':
        domain = new BlockedDomain(id, iommu, tag);
        break;
      case 'identity':
        domain = new IdentityDomain(id, iommu, tag);
        break;
      case 'dma': {
        const stage = spec.nestParent ? 2 : (spec.stage ?? iommu.model.dmaDomainStage(iommu.profile));
        domain = new DmaDomain(id, iommu, tag, stage, spec.nestParent ?? false, this.env.memory);
        break;
      }
      case 'nested':
        domain = new NestedDomain(id, iommu, tag, parent!);
        parent!.nestedChildren.add(domain);
        break;
    }
    iommu.domains.set(id, domain);
    this.env.bus.emit({ kind: 'domain.created', domain: id, iommu: iommu.id, type: spec.type });
    return domain;
  }

  destroyDomain(id: string): void {
    const domain = this.domain(id);
    this.iommufdContext?.guard(domain, null);
    if (domain.type === 'sva')
      fail('EINVAL', `SVA domain ${id} goes away when its last bond is unbound.`, { reason: 'sva-domain' });
    if (domain.attachments.size > 0)
      fail('EBUSY', `domain ${id} is attached to ${domain.attachments.size} device(s).`, {
        reason: 'attached',
      });
    if (domain.nestedChildren.size > 0)
      fail('EBUSY', `domain ${id} is the parent of nested domain(s).`, { reason: 'has-children' });
    if (domain instanceof DmaDomain) domain.clear();
    if (domain instanceof NestedDomain) domain.parent.nestedChildren.delete(domain);
    domain.iommu.domains.delete(id);
    this.env.bus.emit({ kind: 'domain.destroyed', domain: id, iommu: domain.iommu.id });
  }

  /** Maps a range into a DMA domain, or into a nested domain's stage 1 (phys = guest physical). */
  map(domainId: string, spec: MappingSpec): { iova: string; phys: string; size: number } {
    validate(MappingSpecSchema, spec, 'mapping');
    const domain = this.domain(domainId);
    const page = this.alignedPage(spec.iova, 'iova');
    const pages = pagesOf(parseSize(spec.size), 'size');
    const prot = parseProt(spec.prot);
    const pfn = spec.phys === undefined ? undefined : this.alignedPage(spec.phys, 'phys');
    let first: number;
    if (domain instanceof DmaDomain) {
      first = domain.map(page, pfn, pages, prot, spec.pageSize);
    } else if (domain instanceof NestedDomain) {
      if (pfn === undefined)
        fail('EINVAL', 'a stage-1 mapping of a nested domain needs phys (a guest physical address).', {
          reason: 'no-phys',
        });
      domain.map(page, pfn, pages, prot, spec.pageSize);
      first = pfn;
    } else {
      fail('EINVAL', `domain ${domainId} is ${domain.type}; only dma and nested domains take mappings.`, {
        reason: 'not-paging',
      });
    }
    const result = { iova: formatAddress(page), phys: formatAddress(first), size: pages * PAGE_SIZE };
    this.env.bus.emit({ kind: 'domain.mapped', domain: domainId, ...result, prot: formatProt(prot) });
    return result;
  }

  unmap(domainId: string, iova: AddressInput, size: number | string): void {
    const domain = this.domain(domainId);
    const page = this.alignedPage(iova, 'iova');
    const pages = pagesOf(parseSize(size), 'size');
    if (!(domain instanceof DmaDomain || domain instanceof NestedDomain)) {
      fail('EINVAL', `domain ${domainId} is ${domain.type}; only dma and nested domains have mappings.`, {
        reason: 'not-paging',
      });
    }
    domain.unmap(page, pages);
    this.env.bus.emit({
      kind: 'domain.unmapped',
      domain: domainId,
      iova: formatAddress(page),
      size: pages * PAGE_SIZE,
    });
  }

  /** What the domain's tables say for an address (iommu_iova_to_phys); ENOENT when not mapped. */
  iovaToPhys(domainId: string, iova: AddressInput): Translated {
    const domain = this.domain(domainId);
    const { page, offset } = splitAddress(iova, 'iova');
    const t = newTranslation();
    if (domain.type === 'blocked' || page >= domain.pageLimit || !domain.walk(page, t)) {
      fail('ENOENT', `${formatAddress(page, offset)} is not mapped in ${domainId}.`, {
        reason: 'not-mapped',
      });
    }
    if (domain.type === 'identity') return { phys: formatAddress(page, offset), prot: 'rwx', pageSize: '4K' };
    return {
      phys: formatAddress(t.pfn, offset),
      prot: formatProt(t.perms),
      pageSize: LEAF_NAMES[t.leafLevel]!,
    };
  }

  /**
   * The page walk for one address, level by level (both stages for a nested domain), each level with its
   * table's address and raw entry decoded in the format of its IOMMU family and stage (pte-decode.ts).
   */
  walk(
    domainId: string,
    iova: AddressInput,
  ): { stage1?: WalkStep[]; stage2?: WalkStep[]; format: { stage1: PteFormat; stage2: PteFormat } } {
    const domain = this.domain(domainId);
    const { page } = splitAddress(iova, 'iova');
    const format = { ...domain.iommu.model.pteFormats };
    if (domain instanceof DmaDomain)
      return domain.stage === 1
        ? { stage1: domain.pageTable.walkSteps(page, format.stage1), format }
        : { stage2: domain.pageTable.walkSteps(page, format.stage2), format };
    if (domain instanceof SvaDomain)
      return { stage1: domain.process.pageTable.walkSteps(page, format.stage1), format };
    if (domain instanceof NestedDomain) {
      const stage1 = domain.stage1.walkSteps(page, format.stage1);
      const scratch = newWalkResult();
      if (!domain.stage1.walk(page, scratch) || scratch.pfn >= domain.parent.pageLimit)
        return { stage1, format };
      return { stage1, stage2: domain.parent.pageTable.walkSteps(scratch.pfn, format.stage2), format };
    }
    fail('EINVAL', `domain ${domainId} is ${domain.type}; it has no tables to walk.`, {
      reason: 'not-paging',
    });
  }

  // ——— attachment and SVA ———

  attach(deviceId: string, domainId: string, spec: AttachSpec = {}): void {
    const device = this.device(deviceId);
    const domain = this.domain(domainId);
    this.iommufdContext?.guard(domain, device);
    attachDomain(device, domain, spec.pasid, this.attachContext, {
      replace: spec.replace ?? false,
    });
  }

  detach(deviceId: string, pasid?: number): void {
    const device = this.device(deviceId);
    this.iommufdContext?.guard(null, device);
    detachDomain(device, pasid, this.attachContext);
  }

  svaBind(deviceId: string, processId: string): { pasid: number; domain: string } {
    const bond = svaBind(this.device(deviceId), this.process(processId), this.sva);
    return { pasid: bond.pasid, domain: bond.domain.id };
  }

  svaUnbind(deviceId: string, processId: string): void {
    svaUnbind(this.device(deviceId), this.process(processId), this.sva);
  }

  // ——— fault handlers ———

  /** A device-level fault handler: the one handler (seed-5.13) or one for its categories (proposal). */
  registerFaultHandler(deviceId: string, spec: HandlerSpec): HandlerInfo {
    validate(HandlerSpecSchema, spec, 'handler');
    return registerDeviceHandler(this.device(deviceId), spec as RegistrySpec, this.env).describe();
  }

  unregisterFaultHandler(deviceId: string, category: FaultCategory | '*' = '*'): void {
    unregisterDeviceHandler(this.device(deviceId), category, this.env);
  }

  /** A domain's own fault handler: an iommufd fault queue (mainline) or a guest's queue (proposal). */
  setDomainFaultHandler(domainId: string, spec: HandlerSpec): HandlerInfo {
    validate(HandlerSpecSchema, spec, 'handler');
    return setDomainHandler(this.domain(domainId), spec as RegistrySpec, this.env).describe();
  }

  /** Groups waiting for an outside client, oldest first. */
  pendingFaults(): PendingFault[] {
    return [...this.faults.awaitingClient.values()].map((group) => ({
      cookie: group.cookie!,
      device: group.device.id,
      pasid: group.pasid === NO_PASID ? null : group.pasid,
      category: group.category,
      stage: group.stage,
      faults: group.faults.toArray().map((fault) => ({
        address: formatAddress(fault.page),
        perm: formatProt(fault.perm),
      })),
      sinceNs: group.createdNs,
    }));
  }

  /** An outside client answers a pending group (iommufd: write of {cookie, code}). */
  respondToFault(cookie: number, code: ResponseCode): void {
    if (!(RESPONSE_CODES as readonly string[]).includes(code)) {
      fail('EINVAL', `response ${JSON.stringify(code)} must be one of ${RESPONSE_CODES.join(', ')}.`, {
        reason: 'bad-response-code',
      });
    }
    this.faults.answerFromClient(cookie, code);
  }

  // ——— fault injection ———

  /**
   * A PCIe Page Request from a device, arriving at its IOMMU now with no transaction or credit behind it
   * (injection/page-request-injection.ts): ENOENT for an unknown device, EINVAL for what it cannot send.
   */
  injectPageRequest(spec: PageRequestSpec): InjectedPageRequest {
    return injectPageRequest(this.device(spec.device), spec, this.faults);
  }

  /** Arms fail-nth: the nth allocation of the kind from now fails, answered as the kernel would (injection/fail-nth.ts). */
  failNth(spec: FailNthSpec): FailNthCounter {
    return this.env.failNth.arm(spec);
  }

  /** Disarms fail-nth for one kind, or for all. */
  clearFailNth(kind?: FailNthKind): void {
    this.env.failNth.clear(kind);
  }

  /** Allocations counted and failed per fail-nth kind, and what is armed. */
  failNthCounters(): FailNthCounter[] {
    return this.env.failNth.counters();
  }

  // ——— workloads ———

  /** Starts a workload; the scheduler carries it out as the system runs. */
  runWorkload(spec: WorkloadSpec, onProgress?: (progress: WorkloadProgress) => void): WorkloadRun {
    return new WorkloadRun(this, spec, onProgress).start();
  }

  // ——— explicit invalidation ———

  invalidateIotlb(iommuId: string, spec: InvalidateIotlbSpec = {}): number {
    const iommu = this.iommu(iommuId);
    const domain = spec.domain === undefined ? null : this.domain(spec.domain);
    if (domain && domain.iommu !== iommu)
      fail('EINVAL', `domain ${domain.id} is not on ${iommuId}.`, { reason: 'foreign-domain' });
    if (spec.pasid !== undefined && domain === null)
      fail('EINVAL', 'a PASID-scoped invalidation needs a domain.', { reason: 'bad-scope' });
    const [start, end] = this.rangeOf(spec.iova, spec.size);
    return iommu.invalidateIotlb(domain, spec.pasid ?? null, start, end, 'explicit');
  }

  invalidateAtc(
    deviceId: string,
    spec: { pasid?: number; iova?: AddressInput; size?: number | string } = {},
  ): number {
    const device = this.device(deviceId);
    if (device.atc === null) fail('EINVAL', `${deviceId} has no ATS, so no ATC.`, { reason: 'no-atc' });
    const [start, end] = this.rangeOf(spec.iova, spec.size);
    return device.iommu.flushDeviceAtc(device, spec.pasid ?? null, start, end, 'explicit');
  }

  // ——— DMA ———

  /** Submits a DMA transaction; it runs as the simulation runs. */
  dma(spec: DmaSpec): Transaction {
    const device = this.device(spec.device);
    if (!Number.isSafeInteger(spec.length) || spec.length < 1 || spec.length > 2 ** 30) {
      fail('EINVAL', `DMA length ${spec.length} must be 1..2^30 bytes.`, { reason: 'bad-length' });
    }
    const access = spec.access;
    this.accessBit(access);
    const { page, offset } = splitAddress(spec.address);
    if (page + Math.ceil((offset + spec.length) / PAGE_SIZE) > 2 ** 52)
      fail('ERANGE', 'the DMA runs past the top of the 64-bit address space.', { reason: 'out-of-range' });
    if (
      spec.pasid !== undefined &&
      (!Number.isInteger(spec.pasid) || spec.pasid < 0 || spec.pasid >= 2 ** 20)
    ) {
      fail('EINVAL', `PASID ${spec.pasid} must be 0..2^20-1.`, { reason: 'bad-pasid' });
    }
    if (spec.data !== undefined && (access !== 'write' || spec.data.length !== spec.length)) {
      fail('EINVAL', 'data goes with a write and must be exactly length bytes.', { reason: 'bad-data' });
    }
    return this.dmaEngine.submit({
      device,
      pasid: spec.pasid ?? NO_PASID,
      page,
      offset,
      length: spec.length,
      access,
      privileged: spec.privileged ?? false,
      ...(spec.data ? { data: spec.data } : {}),
      ...(spec.returnData ? { returnData: true } : {}),
      ...(spec.onEnd ? { onEnd: spec.onEnd } : {}),
    });
  }

  /**
   * Submits an already checked request (device object, page and offset as numbers): the entry for
   * drivers that generate many transactions, such as workloads, where `dma` would parse each address.
   */
  submitDma(request: DmaRequest): Transaction {
    return this.dmaEngine.submit(request);
  }

  // ——— lookups ———

  iommu(id: string): Iommu {
    return (
      this.iommus.get(id) ?? fail('ENOENT', `no IOMMU ${JSON.stringify(id)}.`, { reason: 'no-such-iommu' })
    );
  }

  device(id: string): Device {
    return (
      this.devices.get(id) ?? fail('ENOENT', `no device ${JSON.stringify(id)}.`, { reason: 'no-such-device' })
    );
  }

  process(id: string): Process {
    return (
      this.processes.get(id) ??
      fail('ENOENT', `no process ${JSON.stringify(id)}.`, { reason: 'no-such-process' })
    );
  }

  domain(id: string): Domain {
    return (
      this.findDomain(id) ?? fail('ENOENT', `no domain ${JSON.stringify(id)}.`, { reason: 'no-such-domain' })
    );
  }

  /** Every domain in the system, IOMMU by IOMMU. */
  *allDomains(): IterableIterator<Domain> {
    for (const iommu of this.iommus.values()) yield* iommu.domains.values();
  }

  private findDomain(id: string): Domain | undefined {
    for (const iommu of this.iommus.values()) {
      const domain = iommu.domains.get(id);
      if (domain) return domain;
    }
    return undefined;
  }

  private claimName(
    requested: string | undefined,
    prefix: keyof System['autoNames'],
    taken: (name: string) => boolean,
  ): string {
    if (requested === undefined) return this.newName(prefix, taken);
    if (!ID_PATTERN.test(requested))
      fail('EINVAL', `name ${JSON.stringify(requested)} must match ${ID_PATTERN.source}.`, {
        reason: 'bad-id',
      });
    if (taken(requested))
      fail('EEXIST', `${JSON.stringify(requested)} is already taken.`, { reason: 'id-taken' });
    return requested;
  }

  private newName(prefix: keyof System['autoNames'], taken: (name: string) => boolean): string {
    let name: string;
    do name = `${prefix}${this.autoNames[prefix]++}`;
    while (taken(name));
    return name;
  }

  private freeRid(iommu: Iommu, kind: 'pci' | 'platform'): number {
    // PCIe functions from 01:00.0 upward, one device number each; platform StreamIDs from 0.
    for (let n = 0; ; n++) {
      const rid = kind === 'pci' ? 0x100 + n * 8 : n;
      if (!iommu.devices.has(rid)) return rid;
    }
  }

  private checkFeature(feature: string): DeviceFeature {
    if (!(DEVICE_FEATURES as readonly string[]).includes(feature)) {
      fail('EINVAL', `feature ${JSON.stringify(feature)} must be one of ${DEVICE_FEATURES.join(', ')}.`, {
        reason: 'bad-feature',
      });
    }
    return feature as DeviceFeature;
  }

  private accessBit(access: string): number {
    const bit = (ACCESS_BIT as Record<string, number>)[access];
    if (bit === undefined)
      fail('EINVAL', `access ${JSON.stringify(access)} must be read, write or exec.`, {
        reason: 'bad-access',
      });
    return bit;
  }

  private alignedPage(address: AddressInput, what: string): number {
    const { page, offset } = splitAddress(address, what);
    if (offset !== 0)
      fail('EINVAL', `${what} ${formatAddress(page, offset)} is not 4 KiB aligned.`, {
        reason: 'misaligned',
      });
    return page;
  }

  /** Bytes rounded up to whole pages, as mmap/munmap round a length. */
  private pageCount(size: number | string): number {
    return Math.ceil(parseSize(size) / PAGE_SIZE);
  }

  private rangeOf(iova: AddressInput | undefined, size: number | string | undefined): [number, number] {
    if (iova === undefined) {
      if (size !== undefined) fail('EINVAL', 'a size needs an iova.', { reason: 'bad-scope' });
      return [0, Number.POSITIVE_INFINITY];
    }
    const page = this.alignedPage(iova, 'iova');
    return [page, page + (size === undefined ? 1 : this.pageCount(size))];
  }
}
