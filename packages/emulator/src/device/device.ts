/**
 * A device that does DMA: a PCIe function (ATS, PRI, PASID) or a platform device behind SMMUv3 (stall),
 * possibly one that resolves its own I/O page faults. It holds its device-side state (ATC, PRI status,
 * features, SVA bonds) and the IOMMU's decoded configuration for it (which domain at the requester ID and
 * at each PASID), the part VT-d keeps in context and PASID entries and SMMUv3 in the STE and CDs.
 */
import { TranslationCache } from '../cache/translation-cache';
import type { Domain } from '../domain/domain';
import type { SvaDomain } from '../domain/sva-domain';
import type { Iommu } from '../iommu/iommu';
import type { ScopeMetrics } from '../metrics/metrics';
import type { DeviceFaultState } from '../fault/device-fault-state';
import type { FaultHandler } from '../fault/handlers/fault-handler';
import type { Process } from '../process/process';
import type { FaultCategory } from '../profile/kernel-profile';
import type { SimEnvironment } from '../sim/environment';
import type { DeviceCapabilities } from './device-capabilities';
import { formatRid } from './requester-id';

export type DeviceFeature = 'IOPF' | 'SVA' | 'AUX';
export const DEVICE_FEATURES: readonly DeviceFeature[] = ['IOPF', 'SVA', 'AUX'];

export interface SvaBond {
  process: Process;
  pasid: number;
  domain: SvaDomain;
  /** iommu_sva_bind_device on an existing bond takes another reference. */
  refs: number;
}

/** PCIe PRI state of the function (reference §5). */
export interface PriState {
  enabled: boolean;
  /** Outstanding Page Request Allocation the driver granted: min(capacity, PRQ depth). */
  allocation: number;
  /** Status RF: a Response Failure stopped page requests until reset. */
  responseFailure: boolean;
  /** Status UPRGI: a response named a PRG index that was not outstanding. */
  unexpectedPrgIndex: boolean;
}

/** An attachment of a fault-capable domain, as mainline counts it: the domain and its PASID (null: the RID). */
export interface IopfAttach {
  domain: string;
  pasid: number | null;
  timeNs: number;
}

export class Device {
  readonly atc: TranslationCache | null;
  /** Domain at the requester ID; the IOMMU's blocked domain when nothing is attached. */
  ridDomain: Domain;
  readonly pasidDomains = new Map<number, Domain>();
  readonly features = new Set<DeviceFeature>();
  /** mainline: attachments of fault-capable domains; I/O page faults are on while this is above 0. */
  iopfUsers = 0;
  /** mainline: the attach that took the first reference (0 → 1), until the last one is dropped. */
  iopfEnabledBy: IopfAttach | null = null;
  readonly pri: PriState = {
    enabled: false,
    allocation: 0,
    responseFailure: false,
    unexpectedPrgIndex: false,
  };
  /** SMMUv3 stall enabled for this master (CD.S / STE.S2S). */
  stallEnabled = false;
  readonly bonds = new Map<string, SvaBond>();
  /**
   * Registered fault handlers: '*' for the one device handler of seed-5.13
   * (iommu_register_device_fault_handler), a category for the proposal's per-category handlers.
   */
  readonly faultHandlers = new Map<FaultCategory | '*', FaultHandler>();
  /** Metric scopes this device's activity counts in: the system, the device, its IOMMU. */
  readonly metricScopes: readonly [ScopeMetrics, ScopeMetrics, ScopeMetrics];
  /** Fault-path state (partials, pending groups, PRI requester), created on first use. */
  faultState: DeviceFaultState | undefined;

  constructor(
    readonly id: string,
    readonly iommu: Iommu,
    readonly rid: number,
    readonly caps: DeviceCapabilities,
    env: SimEnvironment,
  ) {
    this.atc = caps.ats ? new TranslationCache(caps.atc, env.random) : null;
    this.ridDomain = iommu.blockedDomain;
    this.metricScopes = [env.metrics.system, env.metrics.device(id), env.metrics.iommu(iommu.id)];
    this.maxPasids =
      caps.pasidBits === 0 || iommu.caps.pasidBits === 0
        ? 0
        : 2 ** Math.min(caps.pasidBits, iommu.caps.pasidBits);
  }

  get kind(): DeviceCapabilities['kind'] {
    return this.caps.kind;
  }

  get ridName(): string {
    return formatRid(this.rid, this.caps.kind);
  }

  /** PASIDs the device may use: limited by its own capability and by the IOMMU's width. */
  readonly maxPasids: number;

  /** I/O page faults are on: IOPF enabled (feature API) or a fault-capable domain attached (mainline). */
  get iopfEnabled(): boolean {
    return this.features.has('IOPF') || this.iopfUsers > 0;
  }

  /** Every domain this device is attached to, with its PASID (NO_PASID for the requester ID). */
  *attachedDomains(): IterableIterator<[number, Domain]> {
    yield [-1, this.ridDomain];
    yield* this.pasidDomains;
  }
}
