/**
 * The emulator's JSON schemas and the names they use, without the emulator itself: what the wire
 * package, the API and the dashboard import to validate and describe configs, specs and workloads.
 */
export * from './config/system-config';
export * from './workload/workload-spec';
export { EVENT_KINDS, type EventKind, type EventPayloads } from './sim/events';
export { KERNEL_PROFILES, type KernelProfileName, type FaultCategory } from './profile/kernel-profile';
export { FAULT_KIND_NAMES, type FaultKind } from './iommu/fault-kind';
export { RESPONSE_CODES, type ResponseCode } from './fault/page-request';
export { DEFAULT_LATENCY, LATENCY_SOURCES, type LatencyModel } from './latency/latency-model';
export { FLOW_MECHANISMS, FLOW_OUTCOMES, HOPS } from './flow/fault-flow';
export { FAIL_NTH_KINDS, MAX_FAIL_NTH } from './injection/fail-nth';
