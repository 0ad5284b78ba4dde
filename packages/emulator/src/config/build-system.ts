/**
 * Builds a System from a declarative config, in dependency order: IOMMUs, devices, processes (VMAs,
 * resident pages), domains, mappings, features, fault handlers, attachments, SVA bindings. A problem anywhere is an
 * ECONFIG error naming the item, e.g. "/devices/2: no IOMMU "iommu9"".
 */
import { EmulatorError, isEmulatorError } from '../errors';
import { System } from '../system';
import { type SystemConfig, SystemConfigSchema, validate } from './system-config';

export function buildSystem(config: unknown): System {
  const valid = validate<SystemConfig>(SystemConfigSchema, config, 'config', 'ECONFIG');
  const system = new System(valid.options);
  const step = (path: string, action: () => void): void => {
    try {
      action();
    } catch (error) {
      if (!isEmulatorError(error)) throw error;
      throw new EmulatorError('ECONFIG', `config ${path}: ${error.message}`, { path, reason: error.code });
    }
  };
  valid.iommus.forEach((spec, i) => step(`/iommus/${i}`, () => system.addIommu(spec)));
  valid.devices?.forEach((spec, i) => step(`/devices/${i}`, () => system.addDevice(spec)));
  valid.processes?.forEach((spec, i) =>
    step(`/processes/${i}`, () => {
      system.createProcess({
        id: spec.id,
        ...(spec.fiveLevel === undefined ? {} : { fiveLevel: spec.fiveLevel }),
      });
      spec.vmas?.forEach((vma) => system.mmap(spec.id, vma));
      // Resident ranges are faulted in at build time, so they are present before any DMA.
      spec.resident?.forEach(({ address, size }) => system.populate(spec.id, address, size));
    }),
  );
  valid.domains?.forEach((spec, i) => step(`/domains/${i}`, () => system.createDomain(spec)));
  valid.mappings?.forEach(({ domain, ...spec }, i) => step(`/mappings/${i}`, () => system.map(domain, spec)));
  valid.features?.forEach(({ device, feature }, i) =>
    step(`/features/${i}`, () => system.enableFeature(device, feature)),
  );
  valid.handlers?.forEach(({ device, domain, handler }, i) =>
    step(`/handlers/${i}`, () => {
      if ((device === undefined) === (domain === undefined)) {
        throw new EmulatorError('EINVAL', 'a handler names exactly one of device or domain.', {
          reason: 'bad-handler',
        });
      }
      if (device !== undefined) system.registerFaultHandler(device, handler);
      else system.setDomainFaultHandler(domain!, handler);
    }),
  );
  valid.attachments?.forEach(({ device, domain, ...spec }, i) =>
    step(`/attachments/${i}`, () => system.attach(device, domain, spec)),
  );
  valid.bindings?.forEach(({ device, process }, i) =>
    step(`/bindings/${i}`, () => system.svaBind(device, process)),
  );
  return system;
}
