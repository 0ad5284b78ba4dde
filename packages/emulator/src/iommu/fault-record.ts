/**
 * The record of one unrecoverable fault, built in one place from the translation that failed (after
 * QEMU's smmuv3 event records): the family-neutral kind, the stage, the family's own reason code, and
 * Linux's IOMMU_FAULT_REASON_* under profiles that still report unrecoverable faults.
 */
import type { Access } from '../pagetable/permissions';
import type { IommuFamily } from './capabilities';
import type { FaultKind, LinuxFaultReason } from './fault-kind';

export interface FaultRecord {
  iommu: string;
  family: IommuFamily;
  device: string;
  /** Requester ID as bus:device.function, or sid:N for a platform StreamID. */
  rid: string;
  pasid: number | null;
  /** Faulting input address (IOVA / VA), hex. */
  address: string;
  access: Access;
  privileged: boolean;
  /** What went wrong, in family-neutral terms. */
  fault: FaultKind;
  /** Which stage's tables failed; null for faults before any table (blocked, PASID errors). */
  stage: 1 | 2 | null;
  domain: string | null;
  /** VT-d fault reason (FR) or SMMUv3 event ID, and its name. */
  code: number;
  codeName: string;
  /**
   * The code as the hardware writes it, in hex: FRCD.FR (VT-d spec §7.1.3, e.g. 0x79) or the event
   * record's ID[7:0] (SMMUv3 spec §7.3, e.g. 0x10); null when the hardware records nothing.
   */
  reason: string | null;
  /** False when the hardware drops the access without recording (SMMUv3 abort STE) or the queue was full. */
  recorded: boolean;
  /** The fault queue was full (VT-d primary fault overflow, SMMUv3 "events lost"): the record was lost. */
  lost: boolean;
  linuxReason: LinuxFaultReason | null;
  /** The DMA transaction that faulted, when a transaction did. */
  transaction: number | null;
  /** The fault flow of this fault (flow/fault-flow.ts), when a transaction faulted. */
  flow: number | null;
}
