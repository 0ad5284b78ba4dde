/**
 * Registering fault handlers (reference §1, §3, §4, and the proposal). A device handler is registered
 * where the profile's lookup finds it (KernelProfile.faultHandlerLookup, fault/find-handler.ts):
 * - 'device' (seed-5.13): one handler per device (iommu_register_device_fault_handler); a second is -EBUSY.
 *   Enabling SVA on a device that uses IOPF registers the kernel's own (iommu_queue_iopf), so a user
 *   handler and SVA exclude each other, as they did.
 * - 'category' (proposal): a handler per device for a set of categories (BIND, MAP); a category the driver
 *   does not support is -EOPNOTSUPP, one already taken -EBUSY. A nested domain may have its guest's queue
 *   for its stage-1 faults.
 * - 'domain' (mainline): no device-level handlers; a handler belongs to a domain (domain->iopf_handler):
 *   the SVA handler of SVA domains, or an iommufd fault queue on a user-owned (nested or paging) domain.
 */
import { PAGE_SIZE, formatAddress, pagesOf, parseSize, splitAddress } from '../address';
import type { Device } from '../device/device';
import type { Domain } from '../domain/domain';
import { fail } from '../errors';
import { parseProt } from '../pagetable/permissions';
import { type FaultCategory, type KernelProfile, requireInProfile } from '../profile/kernel-profile';
import type { SimEnvironment } from '../sim/environment';
import { DEFAULT_EXTERNAL_TIMEOUT_NS, ExternalFaultHandler } from './handlers/external-handler';
import type { FaultHandler } from './handlers/fault-handler';
import { GuestFaultHandler } from './handlers/guest-handler';
import { MapFaultHandler, type MapRegion } from './handlers/map-handler';
import { SvaFaultHandler } from './handlers/sva-handler';
import type { ResponseCode } from './page-request';

export interface RegionSpec {
  iova: string;
  size: number | string;
  phys?: string;
  prot?: string;
}

export type HandlerSpec =
  | { type: 'external'; categories?: FaultCategory[]; timeoutNs?: number; timeoutResponse?: ResponseCode }
  | { type: 'sva'; categories?: FaultCategory[] }
  | { type: 'map'; categories?: FaultCategory[]; region: RegionSpec; pinBudgetPages: number }
  | { type: 'guest'; region: RegionSpec };

/** Registers a device-level handler (lookup 'device': the one handler; 'category': for its categories). */
export function registerDeviceHandler(device: Device, spec: HandlerSpec, env: SimEnvironment): FaultHandler {
  const { profile } = device.iommu;
  requireInProfile(
    profile,
    profile.faultHandlerLookup !== 'domain',
    'a device fault handler (iommu_register_device_fault_handler)',
  );
  if (spec.type === 'guest')
    fail('EINVAL', 'a guest handler belongs to a nested domain, not to a device.', { reason: 'bad-handler' });
  if (profile.faultHandlerLookup === 'device') {
    if (spec.categories !== undefined)
      fail('EINVAL', `${profile.name} has no fault categories: one handler gets every fault of the device.`, {
        reason: 'no-categories',
      });
    const holder = device.faultHandlers.get('*');
    if (holder)
      fail('EBUSY', `${device.id} already has a fault handler (${holder.type}).`, {
        reason: 'handler-registered',
      });
    const handler = createHandler(spec, null, env, profile);
    device.faultHandlers.set('*', handler);
    announce(env, device, null, handler);
    return handler;
  }
  const categories = spec.categories ?? defaultCategories(spec);
  if (categories.length === 0 || new Set(categories).size !== categories.length) {
    fail('EINVAL', 'categories must name BIND and/or MAP, each once.', { reason: 'bad-categories' });
  }
  if (spec.type === 'sva' && categories.some((category) => category !== 'BIND')) {
    fail('EINVAL', 'the SVA handler serves BIND faults only.', { reason: 'bad-categories' });
  }
  if (spec.type === 'map' && categories.some((category) => category !== 'MAP')) {
    fail('EINVAL', 'the MAP handler serves MAP faults only.', { reason: 'bad-categories' });
  }
  const reported = device.iommu.faultCategories ?? [];
  for (const category of categories) {
    if (!reported.includes(category)) {
      const supported = reported.join(', ') || 'none';
      fail(
        'EOPNOTSUPP',
        `the ${device.iommu.model.label} driver of ${device.iommu.id} does not support ${category} faults (it supports ${supported}).`,
        {
          reason: 'category-unsupported',
          profile: profile.name,
        },
      );
    }
    const holder = device.faultHandlers.get(category);
    if (holder)
      fail('EBUSY', `${device.id} already has a ${category} handler (${holder.type}).`, {
        reason: 'handler-registered',
      });
  }
  const handler = createHandler(spec, categories, env, profile);
  for (const category of categories) device.faultHandlers.set(category, handler);
  announce(env, device, null, handler);
  return handler;
}

/** Removes a device's handler for a category (proposal) or its one handler (seed-5.13). */
export function unregisterDeviceHandler(
  device: Device,
  category: FaultCategory | '*',
  env: SimEnvironment,
): void {
  const handler = device.faultHandlers.get(category);
  if (!handler)
    fail('ENOENT', `${device.id} has no ${category === '*' ? '' : `${category} `}fault handler.`, {
      reason: 'no-handler',
    });
  for (const [key, registered] of [...device.faultHandlers])
    if (registered === handler) device.faultHandlers.delete(key);
  if (handler instanceof MapFaultHandler) handler.release();
  env.bus.emit({ kind: 'handler.unregistered', device: device.id, domain: null, handler: handler.type });
}

/**
 * A domain's own handler, of a type and on a domain type its profile allows (KernelProfile.
 * domainFaultHandlers): an iommufd fault queue (mainline: nested or paging domains), or the guest's queue
 * for a nested domain's stage 1 (proposal). Set before the domain is attached, as iommufd sets it at HWPT
 * allocation.
 */
export function setDomainHandler(domain: Domain, spec: HandlerSpec, env: SimEnvironment): FaultHandler {
  const { profile } = domain.iommu;
  const allowed = profile.domainFaultHandlers;
  requireInProfile(profile, allowed !== null, 'a domain fault handler (domain->iopf_handler)');
  if (domain.attachments.size > 0)
    fail('EBUSY', `domain ${domain.id} is attached; give it a fault handler before attaching it.`, {
      reason: 'attached',
    });
  if (domain.faultHandler)
    fail('EBUSY', `domain ${domain.id} already has a fault handler (${domain.faultHandler.type}).`, {
      reason: 'handler-registered',
    });
  if (!(allowed?.[spec.type] ?? []).includes(domain.type)) {
    fail(
      'EINVAL',
      `under ${profile.name} a ${domain.type} domain cannot have a ${spec.type} handler of its own.`,
      { reason: 'bad-handler', profile: profile.name },
    );
  }
  const handler = createHandler(spec, null, env, profile);
  domain.faultHandler = handler;
  announce(env, null, domain, handler);
  return handler;
}

function defaultCategories(spec: HandlerSpec): FaultCategory[] {
  return spec.type === 'map' ? ['MAP'] : spec.type === 'sva' ? ['BIND'] : ['BIND', 'MAP'];
}

function createHandler(
  spec: HandlerSpec,
  categories: FaultCategory[] | null,
  env: SimEnvironment,
  profile: KernelProfile,
): FaultHandler {
  switch (spec.type) {
    case 'external': {
      const timeoutNs = spec.timeoutNs ?? DEFAULT_EXTERNAL_TIMEOUT_NS;
      if (!Number.isFinite(timeoutNs) || timeoutNs <= 0)
        fail('EINVAL', 'timeoutNs must be a positive number of ns.', { reason: 'bad-timeout' });
      const iommufd = profile.externalHandlerIommufd;
      const timeoutResponse = spec.timeoutResponse ?? 'INVALID';
      if (iommufd && timeoutResponse === 'FAILURE')
        fail('EINVAL', 'iommufd has no FAILURE response.', { reason: 'bad-response-code' });
      return new ExternalFaultHandler(categories, timeoutNs, timeoutResponse, iommufd);
    }
    case 'sva':
      return new SvaFaultHandler(categories, env.latency);
    case 'map': {
      if (!Number.isSafeInteger(spec.pinBudgetPages) || spec.pinBudgetPages < 1) {
        fail('EINVAL', 'pinBudgetPages must be a positive integer.', { reason: 'bad-pin-budget' });
      }
      return new MapFaultHandler(
        parseRegion(spec.region, false, env),
        spec.pinBudgetPages,
        env.memory,
        env.latency,
        env.bus,
      );
    }
    case 'guest': {
      const region = parseRegion(spec.region, true, env);
      return new GuestFaultHandler(region as MapRegion & { physPage: number }, env.latency, env.bus);
    }
  }
}

function parseRegion(region: RegionSpec, needsPhys: boolean, env: SimEnvironment): MapRegion {
  const { page, offset } = splitAddress(region.iova, 'region.iova');
  if (offset !== 0)
    fail('EINVAL', `region.iova ${region.iova} is not 4 KiB aligned.`, { reason: 'misaligned' });
  const pages = pagesOf(parseSize(region.size, 'region.size'), 'region.size');
  let physPage: number | undefined;
  if (region.phys !== undefined) {
    const phys = splitAddress(region.phys, 'region.phys');
    if (phys.offset !== 0)
      fail('EINVAL', `region.phys ${region.phys} is not 4 KiB aligned.`, { reason: 'misaligned' });
    physPage = phys.page;
    if (!needsPhys && physPage + pages > env.memory.frames) {
      fail('ERANGE', `region.phys ${formatAddress(physPage)}+${pages * PAGE_SIZE} bytes is beyond memory.`, {
        reason: 'out-of-range',
      });
    }
  } else if (needsPhys) {
    fail('EINVAL', 'a guest region needs phys: the guest physical address its range maps to.', {
      reason: 'no-phys',
    });
  }
  return { startPage: page, pages, physPage, perms: parseProt(region.prot ?? 'rw') };
}

function announce(
  env: SimEnvironment,
  device: Device | null,
  domain: Domain | null,
  handler: FaultHandler,
): void {
  env.bus.emit({
    kind: 'handler.registered',
    device: device?.id ?? null,
    domain: domain?.id ?? null,
    handler: handler.type,
    categories: handler.categories ? [...handler.categories] : null,
  });
}
