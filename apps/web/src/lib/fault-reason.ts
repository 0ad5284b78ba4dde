/**
 * The reason column of an unrecoverable fault, for the event table (STREAM's EventTable calls this): the
 * code as the hardware writes it, in hex, with its name: "0x79 SM: Read/Write permission error in
 * second-level paging entry" (VT-d FRCD.FR) or "0x10 F_TRANSLATION" (SMMUv3 event ID). Null for an
 * event that is not an unrecoverable fault.
 */
export interface FaultReason {
  /** The code in hex, e.g. "0x79"; null when the hardware recorded nothing (SMMUv3 abort STE). */
  code: string | null;
  name: string;
  /** VT-d fault reason or SMMUv3 event, for a column title. */
  what: 'VT-d fault reason' | 'SMMUv3 event' | 'fault';
}

interface UnrecoverableFields {
  kind?: unknown;
  family?: unknown;
  reason?: unknown;
  codeName?: unknown;
}

export function faultReason(event: UnrecoverableFields): FaultReason | null {
  if (event.kind !== 'fault.unrecoverable' || typeof event.codeName !== 'string') return null;
  return {
    code: typeof event.reason === 'string' ? event.reason : null,
    name: event.codeName,
    what: event.family === 'vtd' ? 'VT-d fault reason' : event.family === 'smmuv3' ? 'SMMUv3 event' : 'fault',
  };
}

/** One line for a table cell: "0x10 F_TRANSLATION", or the name alone when nothing was recorded. */
export function formatFaultReason(reason: FaultReason): string {
  return reason.code === null ? reason.name : `${reason.code} ${reason.name}`;
}
