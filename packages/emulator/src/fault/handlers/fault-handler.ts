/**
 * What a fault handler is. The iopf core hands it a group; the handler must lead to exactly one
 * response for it, now or later (io-pgfault.c: "the handler owns the group and must call
 * iopf_group_response()"). A handler that refuses the group returns false and the core answers FAILURE.
 */
import type { Domain } from '../../domain/domain';
import type { FaultCategory } from '../../profile/kernel-profile';
import type { PageGone } from '../../flow/fault-flow';
import type { IopfGroup } from '../iopf-group';
import type { PageRequest, ResponseCode } from '../page-request';

export type HandlerType = 'sva' | 'map' | 'external' | 'guest' | 'iommufd';

/** Handlers whose groups wait for a client outside the emulator: a script, or a VMM reading iommufd. */
export function answeredOutside(type: HandlerType): boolean {
  return type === 'external' || type === 'iommufd';
}

/** What a handler needs from the fault path. */
export interface HandlerContext {
  /** Answers the group after `costNs` of simulated handler time. */
  respondAfter(group: IopfGroup, code: ResponseCode, costNs: number): void;
  /** Queues the group for an outside client, with a cookie; the client or the timeout answers it. */
  awaitClient(group: IopfGroup, timeoutNs: number, timeoutResponse: ResponseCode): void;
  /** Answers the group now, as a client's response does (an iommufd write, iopf_group_response). */
  answer(group: IopfGroup, code: ResponseCode): void;
  /** The handler made `page` of `space` (a domain) resident for this request's flow, in frame `pfn` (-1: not its own). */
  pageResolved(request: PageRequest, space: object, page: number, pfn: number): void;
  /** A page of `space` that flow `flow` had resolved, taken away again by the handler (a MAP eviction). */
  pageGone(space: object, page: number, flow: number | null, because: PageGone): void;
}

export interface FaultHandler {
  readonly type: HandlerType;
  /** Categories it serves where categories exist (proposal); null elsewhere. */
  readonly categories: readonly FaultCategory[] | null;
  /** Takes the group; false means the handler refused it. */
  handle(group: IopfGroup, context: HandlerContext): boolean;
  describe(): HandlerInfo;
  /** Pages of `domain` it mapped on demand (MAP, guest): state of a run, not of the topology. */
  onDemandPages?(domain: Domain): Iterable<number>;
}

export interface HandlerInfo {
  type: HandlerType;
  categories: FaultCategory[] | null;
  [detail: string]: unknown;
}
