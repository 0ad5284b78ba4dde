/**
 * Helpers shared by the tests: small systems, event capture, and the check that a refused call changed
 * nothing (the describe() picture, the metrics and the event count are all as before).
 */
import { expect } from 'vitest';
import { EmulatorError } from '../errors';
import type { EventKind, EventOf } from '../sim/events';
import { System } from '../system';
import type { KernelProfileName } from '../profile/kernel-profile';
import type { DeviceSpec } from '../config/system-config';

/** One IOMMU of the family and profile, and devices on it. */
export function systemWith(
  family: 'vtd' | 'smmuv3',
  profile: KernelProfileName,
  devices: Omit<DeviceSpec, 'iommu'>[] = [],
  options: ConstructorParameters<typeof System>[0] = {},
): System {
  const system = new System({ seed: 1, memoryFrames: 2 ** 16, ...options });
  system.addIommu({ id: 'iommu0', family, profile });
  for (const device of devices) system.addDevice({ iommu: 'iommu0', ...device });
  return system;
}

/** A PCIe function with ATS, PRI and PASID, ready for SVA over PRI on either family. */
export const PRI_DEVICE: Omit<DeviceSpec, 'iommu' | 'id'> = {
  ats: true,
  pri: { capacity: 32 },
  pasidBits: 20,
};

/** Every event of the given kind, as they happen. */
export function capture<K extends EventKind>(system: System, kind: K): EventOf<K>[] {
  const events: EventOf<K>[] = [];
  system.on(kind, (event) => events.push(event));
  return events;
}

/** Every event of any kind. */
export function captureAll(system: System): EventOf<EventKind>[] {
  const events: EventOf<EventKind>[] = [];
  system.onAny((event) => events.push(event as EventOf<EventKind>));
  return events;
}

function state(system: System): string {
  return JSON.stringify({
    describe: system.describe(),
    metrics: system.metrics(),
    pending: system.pendingEvents,
  });
}

/**
 * Runs `call`, expects an EmulatorError with `code` (and `reason` when given), and checks that nothing
 * changed: same picture, same metrics, no event emitted.
 */
export function expectRefused(
  system: System,
  call: () => unknown,
  code: string,
  reason?: string,
): EmulatorError {
  const before = state(system);
  let emitted = 0;
  const stop = system.onAny(() => emitted++);
  let caught: unknown;
  try {
    call();
  } catch (error) {
    caught = error;
  } finally {
    stop();
  }
  expect(caught, `expected ${code}`).toBeInstanceOf(EmulatorError);
  const error = caught as EmulatorError;
  expect(error.code).toBe(code);
  if (reason !== undefined) expect(error.reason).toBe(reason);
  expect(error.message.length).toBeGreaterThan(10);
  expect(emitted).toBe(0);
  expect(state(system)).toBe(before);
  return error;
}

/** An SVA-bound process with a VMA at 0x7f0000000000 on a device (features enabled where the profile has them). */
export function bindProcess(system: System, device: string, size = 0x100000, prot = 'rw'): { pasid: number } {
  const profile = system.device(device).iommu.profile;
  if (profile.featureCalls) {
    if (!system.device(device).caps.managesOwnFaults) system.enableFeature(device, 'IOPF');
    system.enableFeature(device, 'SVA');
  }
  if (!system.processes.has('app')) {
    system.createProcess({ id: 'app' });
    system.mmap('app', { address: '0x7f0000000000', size, prot });
  }
  return system.svaBind(device, 'app');
}

export const USER_BASE = 0x7f0000000000;

/** Steps the system until `done()` holds (or nothing is left to run); returns whether it holds. */
export function stepUntil(system: System, done: () => boolean, maxEvents = 1_000_000): boolean {
  for (let i = 0; i < maxEvents && !done(); i++) if (!system.step()) break;
  return done();
}
