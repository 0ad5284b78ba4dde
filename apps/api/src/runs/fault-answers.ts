/**
 * Pairs each fault of a run with its answer, from the events: a page request with the response its group
 * got (DISCARDED when the driver dropped it unanswered), a stall with its resume or abort. The fault log
 * and the trace both read faults this way. Only faults still waiting for an answer are remembered.
 */
import type { System } from '@iommu-lab/emulator';

export interface PendingFault {
  timeNs: number;
  device: string;
  pasid: number | null;
  address: string;
  /** r, w, x, p as the page request carried them; empty for a stall. */
  access: string;
  stage: number;
}

export interface AnsweredFault {
  fault: PendingFault;
  kind: 'page-request' | 'stall';
  /** SUCCESS / INVALID / FAILURE, DISCARDED, or RETRY / ABORT for a stall. */
  code: string;
  category: string | null;
  answeredNs: number;
}

export function onAnsweredFaults(system: System, answered: (answer: AnsweredFault) => void): void {
  const requests = new Map<number, PendingFault>();
  const stalls = new Map<string, PendingFault>();
  const groups = new Map<number, { category: string | null; requests: number[] }>();
  const answer = (request: number, answeredNs: number, code: string, category: string | null) => {
    const fault = requests.get(request);
    if (!fault) return;
    requests.delete(request);
    answered({ fault, kind: 'page-request', code, category, answeredNs });
  };

  system.on('pri.page-request', (e) =>
    requests.set(e.request, {
      timeNs: e.timeNs,
      device: e.device,
      pasid: e.pasid,
      address: e.address,
      access: e.perm,
      stage: e.stage,
    }),
  );
  system.on('fault.group', (e) => {
    if (e.transport === 'pri') groups.set(e.group, { category: e.category, requests: e.requests });
  });
  system.on('fault.response', (e) => {
    // A group's answer covers all its requests; an answer without a group (queue overflow) covers one.
    const group = e.group === null ? undefined : groups.get(e.group);
    if (e.group !== null) groups.delete(e.group);
    for (const request of group?.requests ?? [e.request])
      answer(request, e.timeNs, e.code, group?.category ?? null);
  });
  const discard = (e: { requests: number[]; timeNs: number }) => {
    for (const request of e.requests) answer(request, e.timeNs, 'DISCARDED', null);
  };
  system.on('iommu.partials-discarded', discard);
  system.on('fault.partials-dropped', discard);

  system.on('stall.stalled', (e) =>
    stalls.set(`${e.iommu}:${e.stag}`, {
      timeNs: e.timeNs,
      device: e.device,
      pasid: e.pasid,
      address: e.address,
      access: '',
      stage: e.stage,
    }),
  );
  system.on('stall.resume', (e) => {
    const key = `${e.iommu}:${e.stag}`;
    const fault = stalls.get(key);
    if (!fault) return;
    stalls.delete(key);
    answered({ fault, kind: 'stall', code: e.action, category: null, answeredNs: e.timeNs });
  });
}
