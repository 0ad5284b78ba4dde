/**
 * A fault group (struct iopf_group): the page requests of one PRG (or one stall) handed to a handler
 * together, and answered once. Partial requests sit in the device's `partial` list until the request
 * with LAST_PAGE arrives (reference §2).
 */
import type { Device } from '../device/device';
import type { Domain } from '../domain/domain';
import type { HandlerCosts } from '../flow/fault-flow';
import type { FaultCategory } from '../profile/kernel-profile';
import type { EventHandle } from '../sim/scheduler';
import type { FaultHandler } from './handlers/fault-handler';
import type { PageRequest, ResponseCode } from './page-request';

/** Why a group got the response it got, for events and metrics. */
export type ResponseCause =
  | 'handler'
  | 'no-handler'
  | 'handler-refused'
  | 'bad-request'
  | 'timeout'
  | 'detach'
  | 'reset'
  | 'pri-denied'
  | 'stage2-not-handled';

export class IopfGroup {
  /** Still waiting for its response: iopf_group_response answers only pending groups (exactly once). */
  pending = true;
  handler: FaultHandler | null = null;
  /** Cookie given to an external handler's client (iommufd: at read time, from 1). */
  cookie: number | null = null;
  timeout: EventHandle | null = null;
  response: ResponseCode | null = null;
  /** What the handler spent its time on, set by the handler (the flows' handler hop breakdown). */
  costs: HandlerCosts | null = null;

  constructor(
    readonly id: number,
    readonly device: Device,
    /** Partial requests in arrival order, then the last one. */
    readonly faults: PageRequest[],
    readonly domain: Domain | null,
    readonly category: FaultCategory | null,
    readonly createdNs: number,
  ) {}

  /** The request with LAST_PAGE: the response is built from it. */
  get last(): PageRequest {
    return this.faults[this.faults.length - 1]!;
  }

  get pasid(): number {
    return this.last.pasid;
  }

  get stage(): 1 | 2 {
    return this.last.stage;
  }
}

export type { ResponseCode };
