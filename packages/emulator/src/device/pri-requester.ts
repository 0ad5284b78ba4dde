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
import { ReusableList } from '../sim/pool';

/** PRG index is 9 bits (§5). */
export const PRG_INDEXES = 512;

/** A group the device has sent and not yet had answered (reused: the fault path's pool, sim/pool.ts). */
export class OutstandingGroup {
  prgIndex = 0;
  pasid = -1;
  /** Requests sent in it: the credits it holds. */
  requests = 0;
  /** The transaction whose burst it is. */
  transaction: Transaction = null!;
  sentNs = 0;
  /** The flows of its requests: the response at the device closes them. */
  readonly flows = new ReusableList<FaultFlow>();
  free = false;

  /** Sets it up whole for a new group of `transaction`'s requests, with no flows yet. */
  init(prgIndex: number, pasid: number, requests: number, transaction: Transaction, sentNs: number): this {
    this.prgIndex = prgIndex;
    this.pasid = pasid;
    this.requests = requests;
    this.transaction = transaction;
    this.sentNs = sentNs;
    this.flows.clear();
    return this;
  }
}

/** Faulting pages waiting to be sent as one group (reused: the fault path's pool). */
export class Burst {
  transaction: Transaction = null!;
  pasid = -1;
  /** Pages in it: the arrays below are read up to here (never emptied, so their storage is kept). */
  size = 0;
  readonly pages: number[] = [];
  /** Stage and kind per page, from the failed translations. */
  readonly stages: (1 | 2)[] = [];
  readonly stage2Pages: (number | undefined)[] = [];
  readonly kinds: number[] = [];
  /** When the translations failed (the flows' start; the credit wait is measured from it). */
  waitingSinceNs = 0;
  /** It found no credit or PRG index and waited (a creditWait hop). */
  waited = false;
  /** Flows the transaction refaulted after: the causes of this burst's flows. */
  causes: readonly number[] = [];
  free = false;

  /** Sets it up whole for `transaction`'s burst, with no pages yet. */
  init(transaction: Transaction, pasid: number, waitingSinceNs: number, causes: readonly number[]): this {
    this.transaction = transaction;
    this.pasid = pasid;
    this.size = 0;
    this.waitingSinceNs = waitingSinceNs;
    this.waited = false;
    this.causes = causes;
    return this;
  }

  /** A page that failed to translate, with its stage, stage-2 input page and fault kind. */
  add(page: number, stage: 1 | 2, stage2Page: number | undefined, kind: number): void {
    const at = this.size++;
    this.pages[at] = page;
    this.stages[at] = stage;
    this.stage2Pages[at] = stage2Page;
    this.kinds[at] = kind;
  }
}

export class PriRequester {
  /** Requests sent and not yet answered (credits in use). */
  outstanding = 0;
  /** Outstanding groups by PRG index (a slot per index, so a lookup allocates nothing). */
  private readonly byIndex: (OutstandingGroup | undefined)[] = new Array(PRG_INDEXES).fill(undefined);
  private groupCount = 0;
  readonly waiting: Burst[] = [];
  private nextPrgIndex = 0;

  /** Credits left under the Allocation. */
  credits(allocation: number): number {
    return allocation - this.outstanding;
  }

  /** A PRG index not outstanding, or -1. */
  freePrgIndex(): number {
    if (this.groupCount >= PRG_INDEXES) return -1;
    while (this.byIndex[this.nextPrgIndex] !== undefined)
      this.nextPrgIndex = (this.nextPrgIndex + 1) % PRG_INDEXES;
    const index = this.nextPrgIndex;
    this.nextPrgIndex = (index + 1) % PRG_INDEXES;
    return index;
  }

  group(prgIndex: number): OutstandingGroup | undefined {
    return this.byIndex[prgIndex];
  }

  /** The group is sent under its PRG index. */
  sent(group: OutstandingGroup): void {
    if (this.byIndex[group.prgIndex] === undefined) this.groupCount++;
    this.byIndex[group.prgIndex] = group;
  }

  /** Its response arrived: the index is free again. */
  answered(group: OutstandingGroup): void {
    this.byIndex[group.prgIndex] = undefined;
    this.groupCount--;
  }

  /** Forget everything outstanding (function reset): the groups and waiting bursts go to `forget`, to be reused. */
  reset(forget: (group: OutstandingGroup | Burst) => void): void {
    for (let index = 0; index < PRG_INDEXES; index++) {
      const group = this.byIndex[index];
      if (group === undefined) continue;
      this.byIndex[index] = undefined;
      forget(group);
    }
    for (const burst of this.waiting) forget(burst);
    this.groupCount = 0;
    this.waiting.length = 0;
    this.outstanding = 0;
  }
}
