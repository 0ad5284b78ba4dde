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
import { HOP_DEVICE_DRIVER, HOP_MM_FAULT, HOP_RETRANSLATE, NO_HOP } from '../flow/fault-flow';
import { faultKindName } from '../iommu/fault-kind';
import { listOf } from '../sim/pool';

export function resolveOwnFault(
  path: FaultPath,
  transaction: Transaction,
  page: number,
  failed: Translation,
): void {
  const domain = failed.domain as SvaDomain;
  const { env } = path;
  const { device, request } = transaction;
  const flow = path.flows.start(
    'self-faulting',
    transaction.id,
    device.iommu.id,
    device.id,
    request.pasid,
    page,
    transaction.accessBit,
    failed.faultStage,
    faultKindName(failed.fault),
    env.scheduler.nowNs,
    device.metricScopes,
  );
  flow.causes = transaction.refaultedAfter;
  flow.waitingFor = HOP_DEVICE_DRIVER;
  transaction.joined(flow);
  transaction.state = 'waiting';
  env.scheduler.after(env.latency.deviceFaultNs, () => {
    flow.hop(HOP_DEVICE_DRIVER, env.scheduler.nowNs, HOP_MM_FAULT);
    const outcome = domain.released
      ? 'exiting'
      : domain.process.handleMmFault(page, transaction.accessBit, flow);
    const costNs =
      outcome === 'major' ? env.latency.majorFaultNs : outcome === 'minor' ? env.latency.minorFaultNs : 0;
    flow.code = outcome;
    path.metrics.selfHandled(transaction.device, outcome);
    env.bus.emit({
      kind: 'fault.device-handled',
      flow: flow.id,
      device: transaction.device.id,
      pasid: transaction.request.pasid === NO_PASID ? null : transaction.request.pasid,
      address: formatAddress(page),
      outcome,
    });
    if (isMmFaultError(outcome)) {
      path.endFlow(flow, 'failed', NO_HOP);
      path.transactions.fail(transaction, 'device-fault-failed', null);
    } else {
      // handle_mm_fault's cost is the delay before the device translates again.
      flow.hop(HOP_MM_FAULT, env.scheduler.nowNs + costNs, HOP_RETRANSLATE);
      path.transactions.retry(transaction, costNs, listOf(flow));
    }
  });
}
