/**
 * The stream's and the history's filters: devices, PASIDs, kinds, categories, stages, fault flows. Each
 * list given must match; an event without the field does not match a list for it.
 */
import type { EmulatorEvent } from '@iommu-lab/emulator';
import type { StreamFilter } from '@iommu-lab/wire';

export type EventMatcher = (event: EmulatorEvent) => boolean;

export const matchAll: EventMatcher = () => true;

/** The event names fault flow `flow`: as its own (`flow`), among those it concerns (`flows`), or as the flow an eviction made room for (`by`). */
export function namesFlow(event: EmulatorEvent, flow: number): boolean {
  const fields = event as unknown as { flow?: unknown; flows?: unknown; by?: unknown };
  return (
    fields.flow === flow || fields.by === flow || (Array.isArray(fields.flows) && fields.flows.includes(flow))
  );
}

export function compileFilter(filter: StreamFilter = {}): EventMatcher {
  const devices = filter.devices?.length ? new Set<unknown>(filter.devices) : null;
  const pasids = filter.pasids?.length ? new Set<unknown>(filter.pasids) : null;
  const kinds = filter.kinds?.length ? new Set<unknown>(filter.kinds) : null;
  const categories = filter.categories?.length ? new Set<unknown>(filter.categories) : null;
  const stages = filter.stages?.length ? new Set<unknown>(filter.stages) : null;
  const flowIds = filter.flowIds?.length ? filter.flowIds : null;
  const flows = filter.flows;
  if (!devices && !pasids && !kinds && !categories && !stages && !flowIds && flows === undefined)
    return matchAll;
  return (event) => {
    const fields = event as unknown as Record<string, unknown>;
    if (kinds && !kinds.has(event.kind)) return false;
    if (flows !== undefined && (event.kind === 'flow.ended') !== flows) return false;
    if (flowIds && !flowIds.some((flow) => namesFlow(event, flow))) return false;
    if (devices && !devices.has(fields.device)) return false;
    if (pasids && !('pasid' in fields && pasids.has(fields.pasid))) return false;
    if (categories && !categories.has(fields.category)) return false;
    if (stages && !stages.has(fields.stage)) return false;
    return true;
  };
}
