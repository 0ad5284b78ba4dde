/**
 * A fault group (struct iopf_group): the page requests of one PRG (or one stall) handed to a handler
 * together, and answered once. Partial requests sit in the device's `partial` list until the request
 * with LAST_PAGE arrives (reference §2).
 */
import type { Device } from '../device/device';
import type { Domain } from '../domain/domain';
import { type HandlerCosts, newHandlerCosts } from '../flow/fault-flow';
import type { FaultCategory } from '../profile/kernel-profile';
import { ReusableList } from '../sim/pool';
import type { EventHandle } from '../sim/scheduler';
import type { FaultHandler } from './handlers/fault-handler';
import type { PageRequest, ResponseCode } from './page-request';

/** Why a group got the response it got, for events and metrics. */
export type ResponseCause =
  | 'handler'
  | 'no-handler'
  | 'handler-refused'
  /** The iopf core could not allocate the group (fail-nth 'group'). */
  | 'group-alloc-failed'
  | 'bad-request'
  | 'timeout'
  | 'detach'
  | 'reset'
  | 'pri-denied'
  | 'stage2-not-handled';

export class IopfGroup {
  id = 0;
  device: Device = null!;
  /** Partial requests in arrival order, then the last one. */
  readonly faults = new ReusableList<PageRequest>();
  domain: Domain | null = null;
  category: FaultCategory | null = null;
  createdNs = 0;
  /** Still waiting for its response: iopf_group_response answers only pending groups (exactly once). */
  pending = true;
  handler: FaultHandler | null = null;
  /** Cookie given to an external handler's client (iommufd: at read time, from 1). */
  cookie: number | null = null;
  timeout: EventHandle | null = null;
  response: ResponseCode | null = null;
  /** What the handler spent its time on, set by the handler (the flows' handler hop breakdown). */
  costs: HandlerCosts | null = null;
  private readonly ownCosts: HandlerCosts = newHandlerCosts(0);
  /** The code a handler answered with, until its cost has passed (HandlerContext.respondAfter). */
  handlerCode: ResponseCode = 'SUCCESS';
  /** Its place among its device's pending groups (device-fault-state.ts), -1 when not pending. */
  pendingSlot = -1;
  /** Scheduled actions that still name it (dispatch, the handler's answer): it is reused only after them. */
  holds = 0;
  /** In the fault path's pool of groups (sim/pool.ts). */
  free = false;

  /** Sets it up whole for a new group, with no requests yet: nothing of a previous group shows. */
  init(
    id: number,
    device: Device,
    domain: Domain | null,
    category: FaultCategory | null,
    createdNs: number,
  ): this {
    this.id = id;
    this.device = device;
    this.faults.clear();
    this.domain = domain;
    this.category = category;
    this.createdNs = createdNs;
    this.pending = true;
    this.handler = null;
    this.cookie = null;
    this.timeout = null;
    this.response = null;
    this.costs = null;
    this.handlerCode = 'SUCCESS';
    this.holds = 0;
    this.pendingSlot = -1;
    return this;
  }

  /** The handler starts its breakdown at its fixed cost: the group's own record, zeroed. */
  startCosts(fixedNs: number): HandlerCosts {
    const costs = this.ownCosts;
    costs.fixedNs = fixedNs;
    costs.mmFaultNs = 0;
    costs.mapNs = 0;
    costs.evictionNs = 0;
    costs.guestNs = 0;
    return (this.costs = costs);
  }

  /** The request with LAST_PAGE: the response is built from it. */
  get last(): PageRequest {
    return this.faults.last;
  }

  get pasid(): number {
    return this.last.pasid;
  }

  get stage(): 1 | 2 {
    return this.last.stage;
  }
}

export type { ResponseCode };
