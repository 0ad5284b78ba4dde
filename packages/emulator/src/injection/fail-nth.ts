/**
 * fail-nth: the nth allocation of one kind, counted from the moment it is armed, fails, as writing n to
 * /proc/self/task/<tid>/fail-nth makes the nth fault-injectable call of a thread fail
 * (Documentation/fault-injection/fault-injection.rst), which tools/testing/selftests/iommu/iommufd_fail_nth.c
 * uses to walk every error path of an ioctl. Here the count is per kind, and each kind is one allocation
 * the kernel makes at a spot whose failure it answers:
 * - 'group': the struct iopf_group of a page request group (io-pgfault.c iopf_group_alloc / v5.13
 *   iommu_queue_iopf), answered as the profile's kernel does (fault/fault-path.ts);
 * - 'fault-queue-slot': the slot of the iommufd fault object's response xarray a group takes when user
 *   space reads it (xa_alloc in iommufd_fault_fops_read): the group stays queued and read() stops there
 *   (iommufd/fault-queue.ts). The IOMMU's own page request queue is hardware memory, allocated once at
 *   probe: it overflows, it does not fail to allocate, so it is not a kind;
 * - 'domain': an iommu_domain (createDomain, iommufd HWPT allocation, the SVA domain of a first bind):
 *   -ENOMEM from the call;
 * - 'pasid': an mm's PASID at its first SVA bind: -ENOSPC (mainline, iommu_alloc_mm_data) or -ENOMEM
 *   (v5.13 iommu_sva_alloc_pasid), the profile's `pasidAllocFailure`.
 * Unarmed, a kind costs one counter increment and one compare per allocation: nothing else runs.
 */
import { fail } from '../errors';

export const FAIL_NTH_KINDS = ['group', 'fault-queue-slot', 'domain', 'pasid'] as const;
export type FailNthKind = (typeof FAIL_NTH_KINDS)[number];

/** Index of each kind in the counters: the hot path passes the number, not the name. */
export const FAIL_GROUP = 0;
export const FAIL_FAULT_QUEUE_SLOT = 1;
export const FAIL_DOMAIN = 2;
export const FAIL_PASID = 3;

/** The largest n one can arm: an allocation that far away is as good as never. */
export const MAX_FAIL_NTH = 2 ** 31 - 1;

export interface FailNthSpec {
  kind: FailNthKind;
  /** 1 fails the next allocation of the kind, 2 the one after it, … */
  n: number;
}

/** One kind's counters, as GET /labs/:lab/fail-nth shows them. */
export interface FailNthCounter {
  kind: FailNthKind;
  /** Allocations of the kind since the system was built, failed ones included. */
  allocations: number;
  /** Allocations that fail-nth made fail. */
  failed: number;
  /** Allocations still to go until the armed one fails (1: the next); null when not armed. */
  remaining: number | null;
}

export class FailNth {
  private readonly allocations = new Float64Array(FAIL_NTH_KINDS.length);
  private readonly failed = new Float64Array(FAIL_NTH_KINDS.length);
  /** The allocation count at which the kind fails; Infinity while not armed. */
  private readonly failAt = new Float64Array(FAIL_NTH_KINDS.length).fill(Number.POSITIVE_INFINITY);

  /** Counts an allocation of `kind` (FAIL_*); false when it is the armed one, which must then fail. */
  allocates(kind: number): boolean {
    const count = ++this.allocations[kind]!;
    if (count !== this.failAt[kind]) return true;
    // One shot, as the kernel's fail-nth: the allocations after it succeed again.
    this.failAt[kind] = Number.POSITIVE_INFINITY;
    this.failed[kind]!++;
    return false;
  }

  /** Arms `spec.kind`: its nth allocation from now fails (replacing what was armed for that kind). */
  arm(spec: FailNthSpec): FailNthCounter {
    const kind = kindIndex(spec.kind);
    if (!Number.isSafeInteger(spec.n) || spec.n < 1 || spec.n > MAX_FAIL_NTH)
      fail('EINVAL', `fail-nth n ${spec.n} must be an integer 1..${MAX_FAIL_NTH}.`, { reason: 'bad-n' });
    this.failAt[kind] = this.allocations[kind]! + spec.n;
    return this.counter(kind);
  }

  /** Disarms one kind, or every kind; the counters stay. */
  clear(kind?: FailNthKind): void {
    if (kind === undefined) this.failAt.fill(Number.POSITIVE_INFINITY);
    else this.failAt[kindIndex(kind)] = Number.POSITIVE_INFINITY;
  }

  counters(): FailNthCounter[] {
    return FAIL_NTH_KINDS.map((_, kind) => this.counter(kind));
  }

  private counter(kind: number): FailNthCounter {
    const failAt = this.failAt[kind]!;
    return {
      kind: FAIL_NTH_KINDS[kind]!,
      allocations: this.allocations[kind]!,
      failed: this.failed[kind]!,
      remaining: failAt === Number.POSITIVE_INFINITY ? null : failAt - this.allocations[kind]!,
    };
  }
}

function kindIndex(kind: string): number {
  const index = (FAIL_NTH_KINDS as readonly string[]).indexOf(kind);
  if (index < 0)
    fail('EINVAL', `fail-nth kind ${JSON.stringify(kind)} must be one of ${FAIL_NTH_KINDS.join(', ')}.`, {
      reason: 'bad-kind',
    });
  return index;
}
