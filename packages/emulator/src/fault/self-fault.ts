/**
 * Devices that handle their own I/O page faults (reference §3: "some devices manage IOPF themselves"):
 * SVA without IOPF. A translation failure interrupts the device's own driver, which resolves the page in
 * the bound process like handle_mm_fault and tells the device to retry; no PRI, no IOMMU fault queue.
 */
import { formatAddress } from '../address';
import { NO_PASID } from '../domain/domain';
import { SvaDomain } from '../domain/sva-domain';
import type { Transaction } from '../dma/transaction';
import type { Translation } from '../iommu/translation';
import { isMmFaultError } from '../process/process';
import type { FaultPath } from './fault-path';

export function resolveOwnFault(
  path: FaultPath,
  transaction: Transaction,
  page: number,
  failed: Translation,
): void {
  const domain = failed.domain as SvaDomain;
  const { env } = path;
  transaction.state = 'waiting';
  env.scheduler.after(env.latency.deviceFaultNs, () => {
    const outcome = domain.released ? 'exiting' : domain.process.handleMmFault(page, transaction.accessBit);
    const costNs =
      outcome === 'major' ? env.latency.majorFaultNs : outcome === 'minor' ? env.latency.minorFaultNs : 0;
    path.metrics.selfHandled(transaction.device, outcome);
    env.bus.emit({
      kind: 'fault.device-handled',
      device: transaction.device.id,
      pasid: transaction.request.pasid === NO_PASID ? null : transaction.request.pasid,
      address: formatAddress(page),
      outcome,
    });
    if (isMmFaultError(outcome)) path.transactions.fail(transaction, 'device-fault-failed', null);
    else path.transactions.retry(transaction, costNs);
  });
}
