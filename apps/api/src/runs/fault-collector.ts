/**
 * Turns a run's events into fault records: each fault with its answer (see fault-answers.ts), each
 * unrecoverable fault with its reason code, each fault a device resolved itself. Latency is fault to
 * answer in simulated ns.
 */
import type { System } from '@iommu-lab/emulator';
import type { FaultRow } from '@iommu-lab/db';
import { onAnsweredFaults } from './fault-answers';

export class FaultCollector {
  /** Records not yet taken. */
  rows: FaultRow[] = [];
  private seq = 0;

  constructor(system: System) {
    onAnsweredFaults(system, ({ fault, kind, code, category, answeredNs }) =>
      this.rows.push([
        this.seq++,
        fault.timeNs,
        fault.device,
        fault.pasid,
        fault.address,
        fault.access,
        category,
        fault.stage,
        kind,
        code,
        answeredNs - fault.timeNs,
      ]),
    );
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
  }

  /** The records gathered since the last call. */
  take(): FaultRow[] {
    const rows = this.rows;
    this.rows = [];
    return rows;
  }
}
