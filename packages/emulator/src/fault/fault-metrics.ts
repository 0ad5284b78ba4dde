/**
 * Fault-path metrics, counted for the whole system, the device and its IOMMU at once: page requests,
 * groups and responses by code; faults by category, stage and outcome; fault-handling latency (request
 * sent to response received); PRI credit waits; stalls and resumes; queue overflows and the livelock they
 * can end in. Page requests,
 * responses, resumes and outstanding requests also go to the series in simulated time (sim-series.ts).
 */
import type { Device } from '../device/device';
import type { Iommu } from '../iommu/iommu';
import { type Metrics, type ScopeMetrics, countInto } from '../metrics/metrics';
import type { MmFaultOutcome } from '../process/process';
import type { FaultCategory } from '../profile/kernel-profile';
import type { IopfGroup, ResponseCause } from './iopf-group';
import type { PageRequest, ResponseCode } from './page-request';

const STAGE_KEYS = { 1: 'stage1', 2: 'stage2' } as const;
const OUTCOME_KEYS: Partial<Record<string, Partial<Record<ResponseCode, string>>>> = {};

/** "cause:code", built once per pair so counting allocates nothing. */
function outcomeKey(cause: ResponseCause | 'queue-overflow', code: ResponseCode): string {
  const byCode = (OUTCOME_KEYS[cause] ??= {});
  return (byCode[code] ??= `${cause}:${code}`);
}

export class FaultMetrics {
  constructor(private readonly metrics: Metrics) {}

  pageRequest(request: PageRequest): void {
    for (const scope of this.scopes(request.device)) scope.faults.pageRequests++;
    this.metrics.series.pageRequest();
  }

  /** The device's PRI requester now has `count` page requests outstanding. */
  outstanding(device: Device, count: number): void {
    const { series } = this.metrics;
    const scope = device.metricScopes[1];
    if (scope.outstandingColumn < 0) scope.outstandingColumn = series.deviceColumn(device.id);
    series.outstandingInColumn(scope.outstandingColumn, count);
  }

  stopMarker(device: Device): void {
    for (const scope of this.scopes(device)) scope.faults.stopMarkers++;
  }

  reported(device: Device, request: PageRequest, category: FaultCategory | null): void {
    for (const scope of this.scopes(device)) {
      scope.faults.byCategory[category ?? 'none']++;
      scope.faults.byStage[STAGE_KEYS[request.stage]]++;
      scope.faults.byKind[request.kind]++;
    }
  }

  group(group: IopfGroup): void {
    for (const scope of this.scopes(group.device)) scope.faults.groups++;
  }

  groupAnswered(group: IopfGroup, code: ResponseCode, cause: ResponseCause, nowNs: number): void {
    for (const scope of this.scopes(group.device)) {
      countInto(scope.faults.outcomes, outcomeKey(cause, code));
      scope.faults.handlingLatency.record(nowNs - group.createdNs);
    }
  }

  /** A request answered on its own, without a group (no handler, a bad request, a queue overflow). */
  answered(device: Device, code: ResponseCode, cause: ResponseCause | 'queue-overflow'): void {
    for (const scope of this.scopes(device)) countInto(scope.faults.outcomes, outcomeKey(cause, code));
  }

  response(device: Device, code: ResponseCode): void {
    for (const scope of this.scopes(device)) scope.faults.responses[code]++;
    this.metrics.series.response(code);
  }

  faultLatency(device: Device, latencyNs: number): void {
    for (const scope of this.scopes(device)) scope.faults.latency.record(latencyNs);
  }

  unexpectedResponse(device: Device): void {
    for (const scope of this.scopes(device)) scope.faults.unexpectedResponses++;
  }

  creditWait(device: Device): void {
    for (const scope of this.scopes(device)) scope.faults.creditWaits++;
  }

  creditWaited(device: Device, waitedNs: number): void {
    for (const scope of this.scopes(device)) scope.faults.creditWaitLatency.record(waitedNs);
  }

  stalled(device: Device): void {
    for (const scope of this.scopes(device)) scope.faults.stalls++;
  }

  resumed(device: Device, action: 'RETRY' | 'ABORT'): void {
    for (const scope of this.scopes(device)) scope.faults.resumes[action]++;
    this.metrics.series.response(action);
  }

  selfHandled(device: Device, outcome: MmFaultOutcome): void {
    for (const scope of this.scopes(device)) countInto(scope.faults.deviceHandled, outcome);
  }

  queueOverflow(iommu: Iommu, queue: 'page-request' | 'fault'): void {
    for (const scope of [this.metrics.system, this.metrics.iommu(iommu.id)])
      countInto(scope.faults.queueOverflows, queue);
  }

  /** The IOMMU's page request queue overflow storm stopped the system (livelock-detector.ts). */
  livelock(iommu: Iommu): void {
    for (const scope of [this.metrics.system, this.metrics.iommu(iommu.id)]) scope.faults.livelocks++;
  }

  private scopes(device: Device): readonly ScopeMetrics[] {
    return device.metricScopes;
  }
}
