/**
 * One IOMMU instance: its capabilities, kernel profile, IOTLB, the devices behind it and their decoded
 * configuration, the domains allocated on it, and the shared translation machinery:
 * decode the device's configuration → IOTLB → walk → permission check. The family model (vtd.ts,
 * smmuv3.ts) only names faults and states the structural rules that differ.
 */
import { formatAddress } from '../address';
import {
  type CacheHit,
  PASID_TAG_SPAN,
  TranslationCache,
  atcTag,
  iotlbDomainBase,
  iotlbTag,
  newCacheHit,
} from '../cache/translation-cache';
import type { Device } from '../device/device';
import { BlockedDomain, type Domain, NO_PASID } from '../domain/domain';
import type { NestedDomain } from '../domain/nested-domain';
import type { SvaDomain } from '../domain/sva-domain';
import { PERMISSION_OK, PERM_RWX, type Access, checkPermission } from '../pagetable/permissions';
import type { FaultCategory, KernelProfile } from '../profile/kernel-profile';
import { HardwareQueue } from '../fault/hardware-queue';
import { SvaFaultHandler } from '../fault/handlers/sva-handler';
import type { PageRequest } from '../fault/page-request';
import type { FaultQueueEntry, StalledTransaction } from '../fault/stall';
import type { SimEnvironment } from '../sim/environment';
import type { Process } from '../process/process';
import { type IommuCapabilities, levelsFor } from './capabilities';
import type { IommuFamilyModel } from './family';
import {
  FAULT_ADDRESS_SIZE,
  FAULT_BLOCKED,
  FAULT_NONE,
  FAULT_PASID_DISABLED,
  FAULT_PASID_NOT_ATTACHED,
  FAULT_PASID_OUT_OF_RANGE,
  FAULT_TRANSLATION,
  LINUX_FAULT_REASONS,
  faultKindName,
} from './fault-kind';
import type { FaultRecord } from './fault-record';
import {
  SOURCE_IDENTITY,
  SOURCE_IOTLB,
  SOURCE_NONE,
  SOURCE_WALK,
  type Translation,
  newTranslation,
} from './translation';
import { countInto } from '../metrics/metrics';

/**
 * The categories a proposal driver reports unless its config says otherwise: MAP wherever the IOMMU takes
 * recoverable faults (PRI or stall), BIND where it can also bind process page tables (SVA).
 */
export function defaultFaultCategories(caps: IommuCapabilities): FaultCategory[] {
  const recoverable = caps.pri || caps.stall;
  return [...(recoverable && caps.sva ? ['BIND' as const] : []), ...(recoverable ? ['MAP' as const] : [])];
}

/** How many recent fault records an IOMMU keeps for inspection. */
const RECENT_FAULTS = 256;

export class Iommu {
  readonly iotlb: TranslationCache;
  /** Levels of this IOMMU's tables, from its input address width. */
  readonly levels: 4 | 5;
  readonly blockedDomain: BlockedDomain;
  /** Devices behind this IOMMU by requester ID (StreamID on SMMUv3). */
  readonly devices = new Map<number, Device>();
  readonly domains = new Map<string, Domain>();
  /** Each bound process's SVA domain here (one per mm and IOMMU), so a bind finds it at once (sva-bind.ts). */
  readonly svaDomains = new Map<Process, SvaDomain>();
  /** VT-d page request queue / SMMUv3 PRI queue. */
  readonly pageRequestQueue: HardwareQueue<PageRequest>;
  /** VT-d fault recording registers / SMMUv3 event queue (stall events and unrecoverable records). */
  readonly faultQueue: HardwareQueue<FaultQueueEntry>;
  /** The driver's queue thread is running (it sleeps when both queues are empty). */
  driverBusy = false;
  /** SMMUv3: transactions held by stall, by stall tag. */
  readonly stalled = new Map<number, StalledTransaction>();
  nextStallTag = 0;
  /** The kernel's SVA fault handler (iommu_sva_iopf_handler), shared by this IOMMU's SVA users. */
  readonly svaHandler: SvaFaultHandler;
  /**
   * Fault categories the driver supports and reports: a notion of the proposal only (reference, profile
   * table), so null under profiles without category handlers (seed-5.13, mainline).
   */
  readonly faultCategories: readonly FaultCategory[] | null;
  /** Most recent fault records, oldest first. */
  readonly recentFaults: FaultRecord[] = [];
  faultsTotal = 0;
  private readonly hit: CacheHit = newCacheHit();
  private readonly attribution: Translation = newTranslation();

  constructor(
    readonly id: string,
    readonly model: IommuFamilyModel,
    readonly profile: KernelProfile,
    readonly caps: IommuCapabilities,
    private readonly env: SimEnvironment,
    blockedTag: number,
    faultCategories?: readonly FaultCategory[],
  ) {
    this.iotlb = new TranslationCache(caps.iotlb, env.random);
    this.levels = levelsFor(caps.addressWidth);
    const vtd = model.family === 'vtd';
    const { series } = env.metrics;
    this.pageRequestQueue = new HardwareQueue(vtd ? 'PRQ' : 'PRIQ', caps.pageRequestQueueDepth, series, id);
    this.faultQueue = new HardwareQueue(vtd ? 'fault-recording' : 'EVTQ', caps.faultQueueDepth, series, id);
    this.svaHandler = new SvaFaultHandler(profile.categoryHandlers ? ['BIND'] : null, env.latency);
    this.faultCategories = profile.categoryHandlers
      ? (faultCategories ?? defaultFaultCategories(caps))
      : null;
    this.blockedDomain = new BlockedDomain(`${id}.blocked`, this, blockedTag);
  }

  get family(): IommuFamilyModel['family'] {
    return this.model.family;
  }

  /**
   * Translates one page of a request from `device` (with `pasid`, or NO_PASID) for one access.
   * Fills `out`; on failure `out.fault` says why and `out.faultStage` which stage. Hot path: no allocation.
   */
  translate(
    device: Device,
    pasid: number,
    page: number,
    accessBit: number,
    privileged: boolean,
    out: Translation,
  ): boolean {
    out.fault = FAULT_NONE;
    out.source = SOURCE_NONE;
    out.walkAccesses = 0;
    out.stage2InputPage = undefined;
    out.domain = null;
    let domain: Domain | undefined;
    if (pasid === NO_PASID) {
      domain = device.ridDomain;
    } else {
      if (device.maxPasids === 0) return this.refuse(out, FAULT_PASID_DISABLED, 1);
      if (pasid >= device.maxPasids) return this.refuse(out, FAULT_PASID_OUT_OF_RANGE, 1);
      domain = device.pasidDomains.get(pasid);
      if (domain === undefined) return this.refuse(out, FAULT_PASID_NOT_ATTACHED, 1);
    }
    out.domain = domain;
    if (!domain.translates) {
      if (domain.type === 'blocked') return this.refuse(out, FAULT_BLOCKED, 1);
      // Identity: the IOVA is the physical address; beyond memory it is an output address-size fault.
      if (page >= this.env.memory.frames) return this.refuse(out, FAULT_ADDRESS_SIZE, 2);
      out.pfn = page;
      out.perms = PERM_RWX;
      out.leafLevel = 1;
      out.source = SOURCE_IDENTITY;
      return true;
    }
    if (page >= domain.pageLimit) return this.refuse(out, FAULT_ADDRESS_SIZE, domain.stage);
    const tag = pasid === NO_PASID ? domain.noPasidIotlbTag : iotlbTag(domain.tag, pasid);
    if (this.iotlb.lookup(tag, page, this.hit)) {
      out.pfn = this.hit.pfn;
      out.perms = this.hit.perms;
      out.leafLevel = this.hit.leafLevel;
      out.source = SOURCE_IOTLB;
    } else {
      out.source = SOURCE_WALK;
      if (!domain.walk(page, out)) return false;
      this.iotlb.insert(tag, page, out.leafLevel, out.pfn, out.perms);
    }
    const verdict = checkPermission(out.perms, accessBit, privileged);
    if (verdict === PERMISSION_OK) return true;
    // FAULT_PERMISSION_READ..PRIVILEGE follow FAULT_TRANSLATION in the order of the verdicts.
    out.fault = FAULT_TRANSLATION + verdict;
    out.faultStage =
      domain.type === 'nested'
        ? this.deniedStage(domain as NestedDomain, page, accessBit, privileged, out)
        : domain.stage;
    return false;
  }

  /**
   * Records an unrecoverable fault from a failed translation: the family's reason code, the Linux reason
   * under profiles that report them, the recent-fault log, metrics and the `fault.unrecoverable` event.
   */
  recordFault(
    device: Device,
    pasid: number,
    page: number,
    offset: number,
    access: Access,
    privileged: boolean,
    failed: Translation,
    transaction: number | null,
    flow: number | null,
    lost: boolean,
  ): FaultRecord {
    const kind = faultKindName(failed.fault);
    const tableFault = failed.fault >= FAULT_ADDRESS_SIZE;
    const domain = failed.domain;
    const familyCode = this.model.faultCode(kind, failed.faultStage, domain?.type === 'nested');
    const record: FaultRecord = {
      iommu: this.id,
      family: this.family,
      device: device.id,
      rid: device.ridName,
      pasid: pasid === NO_PASID ? null : pasid,
      address: formatAddress(page, offset),
      access,
      privileged,
      fault: kind,
      stage: tableFault ? failed.faultStage : null,
      domain: domain?.id ?? null,
      code: familyCode.code,
      codeName: familyCode.name,
      reason: familyCode.recorded ? `0x${familyCode.code.toString(16).padStart(2, '0')}` : null,
      recorded: familyCode.recorded && !lost,
      lost,
      linuxReason: this.profile.unrecoverableReports ? LINUX_FAULT_REASONS[kind] : null,
      transaction,
      flow,
    };
    this.faultsTotal++;
    this.recentFaults.push(record);
    if (this.recentFaults.length > RECENT_FAULTS) this.recentFaults.shift();
    for (const scope of device.metricScopes) {
      countInto(scope.faultsByKind, kind);
      countInto(scope.faultsByReason, familyCode.name);
    }
    if (this.env.bus.wants('fault.unrecoverable')) {
      const written = this.model.faultRecord(record);
      this.env.bus.emit({
        kind: 'fault.unrecoverable',
        ...record,
        records: written === null ? [] : [written],
      });
    }
    return record;
  }

  /**
   * Invalidation after a domain's tables changed: IOTLB entries of the domain (every PASID) in the range,
   * then the ATC of every device attached to it, then nested domains built on it. IOTLB before ATC, or a
   * device could refetch the stale translation from the IOTLB (reference §8, ordering rule).
   */
  flushDomain(domain: Domain, startPage: number, endPage: number, cause: string): void {
    const low = iotlbDomainBase(domain.tag);
    const dropped = this.iotlb.invalidate(low, low + PASID_TAG_SPAN - 1, startPage, endPage);
    const whole = endPage === Number.POSITIVE_INFINITY;
    this.env.bus.emit({
      kind: 'iotlb.invalidated',
      iommu: this.id,
      scope: whole ? 'domain' : 'range',
      domain: domain.id,
      pasid: null,
      address: whole ? null : formatAddress(startPage),
      pages: whole ? null : endPage - startPage,
      entries: dropped,
      cause,
    });
    for (const { device, pasid } of domain.attachments)
      this.flushDeviceAtc(device, pasid, startPage, endPage, cause);
    for (const child of domain.nestedChildren) this.flushDomain(child, 0, Number.POSITIVE_INFINITY, cause);
  }

  /**
   * Invalidates IOTLB entries by scope, as a driver's explicit flush would: everything, one domain,
   * one domain + PASID, optionally limited to a page range.
   */
  invalidateIotlb(
    domain: Domain | null,
    pasid: number | null,
    startPage: number,
    endPage: number,
    cause: string,
  ): number {
    let low = 0;
    let high = Number.POSITIVE_INFINITY;
    if (domain !== null) {
      low = pasid === null ? iotlbDomainBase(domain.tag) : iotlbTag(domain.tag, pasid);
      high = pasid === null ? low + PASID_TAG_SPAN - 1 : low;
    }
    const whole = endPage === Number.POSITIVE_INFINITY && startPage === 0;
    const dropped = this.iotlb.invalidate(low, high, startPage, endPage);
    this.env.bus.emit({
      kind: 'iotlb.invalidated',
      iommu: this.id,
      scope:
        domain === null ? (whole ? 'all' : 'range') : pasid !== null ? 'pasid' : whole ? 'domain' : 'range',
      domain: domain?.id ?? null,
      pasid,
      address: whole ? null : formatAddress(startPage),
      pages: whole ? null : endPage - startPage,
      entries: dropped,
      cause,
    });
    return dropped;
  }

  /**
   * Invalidates a device's ATC for one PASID (NO_PASID: requests without PASID; null: every PASID, as an
   * ATC invalidation without PASID does on SMMUv3). The range grows to the smallest power-of-two span
   * aligned to itself that covers it, as an ATS Invalidate Request can only name such spans (§8).
   */
  flushDeviceAtc(
    device: Device,
    pasid: number | null,
    startPage: number,
    endPage: number,
    cause: string,
  ): number {
    const atc = device.atc;
    if (atc === null) return 0;
    const [start, end] = atcInvalidationSpan(startPage, endPage);
    const low = pasid === null ? 0 : atcTag(pasid);
    const high = pasid === null ? Number.POSITIVE_INFINITY : low;
    const dropped = atc.invalidate(low, high, start, end);
    const whole = end === Number.POSITIVE_INFINITY;
    this.env.bus.emit({
      kind: 'atc.invalidated',
      device: device.id,
      pasid: pasid === null || pasid === NO_PASID ? null : pasid,
      address: whole ? null : formatAddress(start),
      pages: whole ? null : end - start,
      entries: dropped,
      cause,
    });
    return dropped;
  }

  private refuse(out: Translation, fault: number, stage: 1 | 2): boolean {
    out.fault = fault;
    out.faultStage = stage;
    return false;
  }

  /** Which stage of a nested domain denied an access (a second walk: only on the fault path). */
  private deniedStage(
    domain: NestedDomain,
    page: number,
    accessBit: number,
    privileged: boolean,
    out: Translation,
  ): 1 | 2 {
    domain.walk(page, this.attribution);
    out.stage2InputPage = this.attribution.stage2InputPage;
    return checkPermission(this.attribution.permsStage1, accessBit, privileged) === PERMISSION_OK ? 2 : 1;
  }
}

/** Smallest self-aligned power-of-two span of pages covering [start, end) (Linux: pages 7..10 → 0..15). */
export function atcInvalidationSpan(startPage: number, endPage: number): [number, number] {
  if (endPage === Number.POSITIVE_INFINITY) return [0, endPage];
  let span = 1;
  while (Math.floor(startPage / span) !== Math.floor((endPage - 1) / span)) span *= 2;
  const start = startPage - (startPage % span);
  return [start, start + span];
}
