/**
 * Which translation faults can stall (reference §6): an SMMUv3 master with stalling configured for the stage
 * stalls on the translation-related faults F_TRANSLATION, F_ADDR_SIZE, F_ACCESS and F_PERMISSION; a
 * configuration or fetch error never stalls. In the family-neutral kinds (fault-kind.ts): address-size and
 * every recoverable kind. The stall unit (fault/stall.ts) asks this before holding a transaction.
 */
import { FAULT_ADDRESS_SIZE, isRecoverableKind } from './fault-kind';

export function isStallableKind(kind: number): boolean {
  return kind === FAULT_ADDRESS_SIZE || isRecoverableKind(kind);
}
