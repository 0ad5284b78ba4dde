/**
 * The device side of PCIe PRI (reference §5, §10.1): when translations fail, the function sends the
 * faulting pages of one burst as one page request group (same PRG index, L on the last), never more
 * requests outstanding than its Allocation; a group that does not fit the remaining credits is cut
 * short with L on the last one that fits (as QEMU's SVM test device does), and a burst with no credit
 * or no free PRG index waits. A PRG response returns the group's credits: Success retries the
 * transactions, Invalid fails them, Response Failure stops page requests until reset (RF).
 */
import type { Transaction } from '../dma/transaction';
import type { FaultFlow } from '../flow/fault-flow';

/** PRG index is 9 bits (§5). */
export const PRG_INDEXES = 512;

/** A group the device has sent and not yet had answered. */
export interface OutstandingGroup {
  prgIndex: number;
  pasid: number;
  /** Requests sent in it: the credits it holds. */
  requests: number;
  transactions: Transaction[];
  sentNs: number;
  /** The flows of its requests: the response at the device closes them. */
  flows: FaultFlow[];
}

/** Faulting pages waiting to be sent as one group. */
export interface Burst {
  transaction: Transaction;
  pasid: number;
  pages: number[];
  /** Stage and kind per page, from the failed translations. */
  stages: (1 | 2)[];
  stage2Pages: (number | undefined)[];
  kinds: number[];
  /** When the translations failed (the flows' start; the credit wait is measured from it). */
  waitingSinceNs: number;
  /** It found no credit or PRG index and waited (a creditWait hop). */
  waited: boolean;
  /** Flows the transaction refaulted after: the causes of this burst's flows. */
  causes: readonly number[];
}

export class PriRequester {
  /** Requests sent and not yet answered (credits in use). */
  outstanding = 0;
  readonly groups = new Map<number, OutstandingGroup>();
  readonly waiting: Burst[] = [];
  private nextPrgIndex = 0;

  /** Credits left under the Allocation. */
  credits(allocation: number): number {
    return allocation - this.outstanding;
  }

  /** A PRG index not outstanding, or -1. */
  freePrgIndex(): number {
    if (this.groups.size >= PRG_INDEXES) return -1;
    while (this.groups.has(this.nextPrgIndex)) this.nextPrgIndex = (this.nextPrgIndex + 1) % PRG_INDEXES;
    const index = this.nextPrgIndex;
    this.nextPrgIndex = (index + 1) % PRG_INDEXES;
    return index;
  }

  /** Forget everything outstanding (function reset); returns the transactions that were waiting. */
  reset(): Transaction[] {
    const stranded = [...this.groups.values()].flatMap((group) => group.transactions);
    stranded.push(...this.waiting.map((burst) => burst.transaction));
    this.groups.clear();
    this.waiting.length = 0;
    this.outstanding = 0;
    return stranded;
  }
}
