/**
 * Harness for the property tests: generated operation sequences over a small system, an independent
 * reference model of what each domain maps (built from the results of the calls, never from emulator
 * internals), and the check that every page a DMA touched went where the model says it must at that
 * moment. SVA domains are checked against the process's own page table, which is the specification of
 * what an SVA domain maps.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { SvaDomain } from '../domain/sva-domain';
import { isEmulatorError } from '../errors';
import { PERM_EXEC, PERM_PRIV, PERM_READ, PERM_WRITE, parseProt } from '../pagetable/permissions';
import { newWalkResult } from '../pagetable/page-table';
import type { System } from '../system';

export type Op =
  | { op: 'map'; domain: number; page: number; pages: number; prot: 'r' | 'w' | 'rw' }
  | { op: 'unmap'; domain: number; page: number; pages: number }
  | { op: 'attach'; device: number; domain: number; pasid: number | null }
  | { op: 'detach'; device: number; pasid: number | null }
  | {
      op: 'dma';
      device: number;
      pasid: number | null;
      page: number;
      offset: number;
      length: number;
      access: 'read' | 'write' | 'exec';
    }
  | {
      op: 'process';
      action: 'populate' | 'reclaim' | 'munmap' | 'mprotect' | 'mmap';
      page: number;
      pages: number;
    }
  | { op: 'run'; steps: number };

export interface World {
  devices: string[];
  domains: string[];
  /** PASIDs the generator picks from (null: requests without PASID). */
  pasids: (number | null)[];
  /** Pages of the IOVA window the generator uses, from 0. */
  pages: number;
  /** First page of the process's VMA, for SVA traffic and process operations. */
  userBase: number;
}

export function opArbitrary(world: World): fc.Arbitrary<Op> {
  const device = fc.integer({ min: 0, max: world.devices.length - 1 });
  const domain = fc.integer({ min: 0, max: world.domains.length - 1 });
  const pasid = fc.constantFrom(...world.pasids);
  const page = fc.integer({ min: 0, max: world.pages - 1 });
  const pages = fc.integer({ min: 1, max: 8 });
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('map' as const),
        domain,
        page,
        pages,
        prot: fc.constantFrom('r' as const, 'w' as const, 'rw' as const),
      }),
    },
    // Unmaps of one or two pages mostly hit something mapped; longer ones mostly meet a hole and are refused.
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('unmap' as const),
        domain,
        page,
        pages: fc.integer({ min: 1, max: 2 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('attach' as const), device, domain, pasid }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('detach' as const), device, pasid }) },
    {
      weight: 6,
      arbitrary: fc.record({
        op: fc.constant('dma' as const),
        device,
        pasid,
        page,
        offset: fc.integer({ min: 0, max: 4095 }),
        length: fc.integer({ min: 1, max: 3 * 4096 }),
        access: fc.constantFrom('read' as const, 'write' as const, 'exec' as const),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('process' as const),
        action: fc.constantFrom(
          'populate' as const,
          'reclaim' as const,
          'munmap' as const,
          'mprotect' as const,
          'mmap' as const,
        ),
        page: fc.integer({ min: 0, max: 15 }),
        pages: fc.integer({ min: 1, max: 4 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ op: fc.constant('run' as const), steps: fc.integer({ min: 0, max: 12 }) }),
    },
  );
}

interface Mapping {
  pfn: number;
  perms: number;
}

/** What each explicitly mapped domain maps, and what each device is attached to, from call results only. */
export class ReferenceModel {
  readonly domainPages = new Map<string, Map<number, Mapping>>();
  readonly attached = new Map<string, Map<number | null, string>>();

  map(domain: string, page: number, pages: number, pfn: number, perms: number): void {
    let table = this.domainPages.get(domain);
    if (!table) this.domainPages.set(domain, (table = new Map()));
    for (let i = 0; i < pages; i++) table.set(page + i, { pfn: pfn + i, perms });
  }

  unmap(domain: string, page: number, pages: number): void {
    for (let i = 0; i < pages; i++) this.domainPages.get(domain)?.delete(page + i);
  }

  attach(device: string, pasid: number | null, domain: string): void {
    let slots = this.attached.get(device);
    if (!slots) this.attached.set(device, (slots = new Map()));
    slots.set(pasid, domain);
  }

  detach(device: string, pasid: number | null): void {
    this.attached.get(device)?.delete(pasid);
  }

  /** The mapping a device + PASID reaches for a page right now, or undefined. */
  expected(system: System, device: string, pasid: number | null, page: number): Mapping | undefined {
    const dev = system.device(device);
    const domain = pasid === null ? dev.ridDomain : dev.pasidDomains.get(pasid);
    if (domain === undefined || domain.type === 'blocked') return undefined;
    if (domain instanceof SvaDomain) {
      const out = newWalkResult();
      return !domain.released && domain.process.pageTable.walk(page, out)
        ? { pfn: out.pfn, perms: out.perms }
        : undefined;
    }
    // The model's own view of the attachment must agree with the device's.
    expect(this.attached.get(device)?.get(pasid)).toBe(domain.id);
    if (domain.type === 'identity') return { pfn: page, perms: PERM_READ | PERM_WRITE | PERM_EXEC };
    return this.domainPages.get(domain.id)?.get(page);
  }
}

const ACCESS_BITS = { read: PERM_READ, write: PERM_WRITE, exec: PERM_EXEC } as const;

/**
 * Runs the operations, applying each call that succeeds to the model (a refused call must leave the model
 * as it was), and checks every `dma.page` event against the model at that moment. Returns the number of
 * pages checked.
 */
export function runAndCheck(system: System, world: World, model: ReferenceModel, ops: Op[]): number {
  const accesses = new Map<number, { access: keyof typeof ACCESS_BITS; privileged: boolean }>();
  let checked = 0;
  const stop = system.on('dma.page', (event) => {
    const page = Number(BigInt(event.address) / 4096n);
    const frame = Number(BigInt(event.frame) / 4096n);
    const want = model.expected(system, event.device, event.pasid, page);
    expect(
      want,
      `${event.device} pasid ${event.pasid} page ${event.address} reached a frame nothing maps`,
    ).toBeDefined();
    expect(frame).toBe(want!.pfn);
    const { access, privileged } = accesses.get(event.transaction)!;
    expect(want!.perms & ACCESS_BITS[access]).not.toBe(0);
    if (!privileged) expect(want!.perms & PERM_PRIV).toBe(0);
    checked++;
  });
  try {
    for (const op of ops) apply(system, world, model, op, accesses);
    system.runUntilIdle();
  } finally {
    stop();
  }
  return checked;
}

function apply(
  system: System,
  world: World,
  model: ReferenceModel,
  op: Op,
  accesses: Map<number, { access: 'read' | 'write' | 'exec'; privileged: boolean }>,
): void {
  const hex = (page: number) => `0x${(page * 4096).toString(16)}`;
  try {
    switch (op.op) {
      case 'map': {
        const domain = world.domains[op.domain]!;
        const result = system.map(domain, { iova: hex(op.page), size: op.pages * 4096, prot: op.prot });
        model.map(domain, op.page, op.pages, Number(BigInt(result.phys) / 4096n), parseProt(op.prot));
        break;
      }
      case 'unmap': {
        const domain = world.domains[op.domain]!;
        system.unmap(domain, hex(op.page), op.pages * 4096);
        model.unmap(domain, op.page, op.pages);
        break;
      }
      case 'attach': {
        const device = world.devices[op.device]!;
        const domain = world.domains[op.domain]!;
        system.attach(device, domain, { ...(op.pasid === null ? {} : { pasid: op.pasid }), replace: true });
        model.attach(device, op.pasid, domain);
        break;
      }
      case 'detach': {
        const device = world.devices[op.device]!;
        system.detach(device, op.pasid ?? undefined);
        model.detach(device, op.pasid);
        break;
      }
      case 'dma': {
        const device = world.devices[op.device]!;
        const sva = op.pasid !== null && system.device(device).pasidDomains.get(op.pasid)?.type === 'sva';
        const base = sva ? world.userBase : 0;
        const tx = system.dma({
          device,
          ...(op.pasid === null ? {} : { pasid: op.pasid }),
          address: (base + op.page) * 4096 + op.offset,
          length: op.length,
          access: op.access,
        });
        accesses.set(tx.id, { access: op.access, privileged: false });
        break;
      }
      case 'process': {
        if (!system.processes.has('app')) return;
        const address = hex(world.userBase + op.page);
        const size = op.pages * 4096;
        if (op.action === 'populate') system.populate('app', address, size);
        else if (op.action === 'reclaim') system.reclaim('app', address, size);
        else if (op.action === 'munmap') system.munmap('app', address, size);
        else if (op.action === 'mprotect') system.mprotect('app', address, size, 'r');
        else system.mmap('app', { address, size, prot: 'rw' });
        break;
      }
      case 'run':
        if (op.steps === 0) system.runUntilIdle();
        else for (let i = 0; i < op.steps; i++) system.step();
        break;
    }
  } catch (error) {
    if (!isEmulatorError(error)) throw error;
  }
}
