/**
 * Turns a run's events into fault records, one per faulting request: a page request with the answer its
 * group got (or DISCARDED when the driver dropped it unanswered), a stall with its resume or abort, an
 * unrecoverable fault with its reason code, a fault a device resolved itself. Latency is request to
 * answer in simulated ns. Only requests still waiting for an answer are remembered.
 */
import type { EventOf, System } from '@iommu-lab/emulator';
import type { FaultRow } from '@iommu-lab/db';

interface Pending {
  timeNs: number;
  device: string;
  pasid: number | null;
  address: string;
  access: string;
  stage: number;
}

export class FaultCollector {
  /** Records not yet taken. */
  rows: FaultRow[] = [];
  private seq = 0;
  private readonly requests = new Map<number, Pending>();
  private readonly stalls = new Map<string, Pending>();
  private readonly groups = new Map<number, { category: string | null; requests: number[] }>();

  constructor(system: System) {
    system.on('pri.page-request', (e) => this.request(e));
    system.on('fault.group', (e) => {
      if (e.transport === 'pri') this.groups.set(e.group, { category: e.category, requests: e.requests });
    });
    system.on('fault.response', (e) => this.response(e));
    system.on('stall.stalled', (e) =>
      this.stalls.set(`${e.iommu}:${e.stag}`, {
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
      const stall = this.stalls.get(key);
      if (!stall) return;
      this.stalls.delete(key);
      this.push(stall, e.timeNs, 'stall', e.action, null);
    });
    system.on('fault.unrecoverable', (e) =>
      this.rows.push([
        this.seq++,
        e.timeNs,
        e.device,
        e.pasid,
        e.address,
        e.privileged ? `${e.access[0]}p` : e.access[0]!,
        null,
        e.stage,
        'unrecoverable',
        e.codeName,
        null,
      ]),
    );
    system.on('fault.device-handled', (e) =>
      this.rows.push([
        this.seq++,
        e.timeNs,
        e.device,
        e.pasid,
        e.address,
        '',
        null,
        1,
        'device-handled',
        e.outcome,
        0,
      ]),
    );
    system.on('iommu.partials-discarded', (e) => this.discard(e.requests, e.timeNs));
    system.on('fault.partials-dropped', (e) => this.discard(e.requests, e.timeNs));
  }

  /** The records gathered since the last call. */
  take(): FaultRow[] {
    const rows = this.rows;
    this.rows = [];
    return rows;
  }

  /** Requests still waiting for an answer. */
  get waiting(): number {
    return this.requests.size + this.stalls.size;
  }

  private request(e: EventOf<'pri.page-request'>): void {
    this.requests.set(e.request, {
      timeNs: e.timeNs,
      device: e.device,
      pasid: e.pasid,
      address: e.address,
      access: e.perm,
      stage: e.stage,
    });
  }

  private response(e: EventOf<'fault.response'>): void {
    // A group's answer covers all its requests; an answer without a group (queue overflow) covers one.
    const group = e.group === null ? undefined : this.groups.get(e.group);
    if (e.group !== null) this.groups.delete(e.group);
    for (const request of group?.requests ?? [e.request]) {
      const pending = this.requests.get(request);
      if (!pending) continue;
      this.requests.delete(request);
      this.push(pending, e.timeNs, 'page-request', e.code, group?.category ?? null);
    }
  }

  private discard(requests: readonly number[], timeNs: number): void {
    for (const request of requests) {
      const pending = this.requests.get(request);
      if (!pending) continue;
      this.requests.delete(request);
      this.push(pending, timeNs, 'page-request', 'DISCARDED', null);
    }
  }

  private push(p: Pending, nowNs: number, kind: string, code: string, category: string | null): void {
    this.rows.push([
      this.seq++,
      p.timeNs,
      p.device,
      p.pasid,
      p.address,
      p.access,
      category,
      p.stage,
      kind,
      code,
      nowNs - p.timeNs,
    ]);
  }
}
