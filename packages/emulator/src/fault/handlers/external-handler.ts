/**
 * A handler outside the emulator: a script, the dashboard, or a VMM reading an iommufd fault queue
 * (reference §4). Its groups wait with a cookie until the client answers or the timeout answers for it.
 * Where the profile's external handler is an iommufd fault queue (KernelProfile.externalHandlerIommufd,
 * mainline) the client speaks the iommufd uAPI, which has SUCCESS and INVALID only.
 */
import type { FaultCategory } from '../../profile/kernel-profile';
import type { IopfGroup } from '../iopf-group';
import { RESPONSE_CODES, type ResponseCode } from '../page-request';
import type { FaultHandler, HandlerContext, HandlerInfo } from './fault-handler';

/** Default time an external client has to answer, in simulated ns. */
export const DEFAULT_EXTERNAL_TIMEOUT_NS = 1_000_000_000;

export class ExternalFaultHandler implements FaultHandler {
  readonly type = 'external';
  readonly allowedCodes: readonly ResponseCode[];

  constructor(
    readonly categories: readonly FaultCategory[] | null,
    readonly timeoutNs: number,
    readonly timeoutResponse: ResponseCode,
    /** iommufd: IOMMUFD_PAGE_RESP_SUCCESS / INVALID only, no FAILURE in the merged uAPI. */
    iommufd: boolean,
  ) {
    this.allowedCodes = iommufd ? ['SUCCESS', 'INVALID'] : RESPONSE_CODES;
  }

  handle(group: IopfGroup, context: HandlerContext): boolean {
    context.awaitClient(group, this.timeoutNs, this.timeoutResponse);
    return true;
  }

  describe(): HandlerInfo {
    return {
      type: this.type,
      categories: this.categories ? [...this.categories] : null,
      timeoutNs: this.timeoutNs,
      timeoutResponse: this.timeoutResponse,
      codes: [...this.allowedCodes],
    };
  }
}
