/**
 * Whether a workload can run on a system, before it does: every stream's device exists, a stream's PASID
 * has a domain on that device (attached at it, or given by an SVA bond), and each working set fits the
 * address space. A problem is the emulator's own error with the path of the field, e.g.
 * "/streams/0/device", so an experiment is refused when saved rather than failing when run.
 */
import { validate } from '../config/system-config';
import { fail, isEmulatorError } from '../errors';
import type { System } from '../system';
import { WorkloadRun } from './workload-runner';
import { type WorkloadSpec, WorkloadSpecSchema } from './workload-spec';

export function checkWorkload(system: System, spec: unknown): void {
  const valid = validate<WorkloadSpec>(WorkloadSpecSchema, spec, 'workload');
  valid.streams.forEach((stream, i) => {
    const device = system.devices.get(stream.device);
    if (!device)
      fail('ENOENT', `stream ${i} names device ${JSON.stringify(stream.device)}, which the system lacks.`, {
        path: `/streams/${i}/device`,
        reason: 'no-such-device',
      });
    if (stream.pasid !== undefined && !device.pasidDomains.has(stream.pasid))
      fail(
        'EINVAL',
        `stream ${i} uses PASID ${stream.pasid} of ${device.id}, which no attachment or SVA binding gives it.`,
        { path: `/streams/${i}/pasid`, reason: 'no-such-pasid' },
      );
    try {
      // Constructing a run checks what is left (its ranges) without scheduling anything.
      new WorkloadRun(system, { streams: [stream] });
    } catch (error) {
      if (!isEmulatorError(error)) throw error;
      fail(error.code, error.message.replace('stream 0', `stream ${i}`), {
        path: `/streams/${i}`,
        ...(error.reason === undefined ? {} : { reason: error.reason }),
      });
    }
  });
}
