/**
 * A DMA transaction: one device request over a byte range, split at 4 KiB page boundaries and carried out
 * page by page in simulated time. Its state says where it is; `pageIndex` is the next page to translate,
 * so a translation that has to wait (a page request, a stall) can resume from the same place.
 */
import { PAGE_SIZE } from '../address';
import type { Device } from '../device/device';
import type { TransactionError } from '../fault/fault-path';
import type { FaultFlow } from '../flow/fault-flow';
import type { FaultRecord } from '../iommu/fault-record';
import type { ScopeMetrics } from '../metrics/metrics';
import type { Access } from '../pagetable/permissions';
import type { ReusableList } from '../sim/pool';

/** running: translating or moving data; waiting: on a page request, a stall or the device's own fault handling. */
export type TransactionState = 'running' | 'waiting' | 'completed' | 'faulted' | 'aborted';

export interface DmaRequest {
  device: Device;
  /** NO_PASID (-1) for a request without PASID. */
  pasid: number;
  page: number;
  offset: number;
  length: number;
  access: Access;
  privileged: boolean;
  /** Bytes a write stores; without them a write moves no modelled contents. */
  data?: Uint8Array;
  /** Keep the bytes a read returns. */
  returnData?: boolean;
  /** Called once when the transaction ends, however it ends. */
  onEnd?: (transaction: Transaction) => void;
}

export class Transaction {
  readonly pages: number;
  state: TransactionState = 'running';
  /** Next page to translate, 0-based. */
  pageIndex = 0;
  bytesDone = 0;
  finishedNs = -1;
  /** The unrecoverable fault that ended it, if one did. */
  fault: FaultRecord | null = null;
  /** How it ended when it did not complete. */
  error: TransactionError | null = null;
  /** Translation failures resolved through the fault path (page requests, stalls, own handling). */
  recoveries = 0;
  /** The first fault flow it went through (0: none yet; ids start at 1), and the later ones. */
  private firstFlow = 0;
  private laterFlows: number[] | null = null;
  /** Flows answered so that it retries: its next translation ends them (resumed or refaulted). */
  resuming: ReusableList<FaultFlow> | null = null;
  /** Flows its last retry refaulted after: the causes of the flows its next fault starts. */
  refaultedAfter: readonly number[] = NO_FLOWS;
  readonly readBack: Uint8Array | null;

  constructor(
    readonly id: number,
    readonly request: DmaRequest,
    readonly accessBit: number,
    readonly submittedNs: number,
    /** Metric scopes of the device and its IOMMU, looked up once. */
    readonly deviceMetrics: ScopeMetrics,
    readonly iommuMetrics: ScopeMetrics,
  ) {
    this.pages = Math.ceil((request.offset + request.length) / PAGE_SIZE);
    this.readBack = request.returnData && request.access !== 'write' ? new Uint8Array(request.length) : null;
  }

  /** Notes a flow it takes part in: most transactions fault once, so the first needs no array. */
  joined(flow: FaultFlow): void {
    if (this.firstFlow === 0) this.firstFlow = flow.id;
    else (this.laterFlows ??= []).push(flow.id);
  }

  /** Ids of the fault flows it went through, in order (null until its first fault), built when read. */
  get flows(): number[] | null {
    if (this.firstFlow === 0) return null;
    return this.laterFlows === null ? [this.firstFlow] : [this.firstFlow, ...this.laterFlows];
  }

  get device(): Device {
    return this.request.device;
  }

  get latencyNs(): number {
    return this.finishedNs - this.submittedNs;
  }
}

const NO_FLOWS: readonly number[] = [];
