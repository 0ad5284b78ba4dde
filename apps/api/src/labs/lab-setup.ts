/**
 * What a lab is made of, as a system config kept up to date with every call that changes its topology:
 * the config it was built from, plus each IOMMU, device, feature, process, VMA, domain, mapping,
 * attachment, binding and handler added (or removed) since. Saving a lab as an experiment stores this.
 * Calls a config cannot express (munmap, mprotect, reclaim, unmap, …) are listed as omitted, so a saved
 * experiment says what it leaves out; runtime calls (DMA, clock, invalidations, answers) change nothing here.
 */
import type { SystemConfig } from '@iommu-lab/emulator';

type Params = Record<string, string>;
type Body = Record<string, unknown> | undefined;
type Result = Record<string, unknown>;
type Reducer = (config: Required<SystemConfig>, params: Params, body: Body, result: Result) => void;

const without = <T>(list: T[], drop: (item: T) => boolean) =>
  list.splice(0, list.length, ...list.filter((item) => !drop(item)));

const REDUCERS: Record<string, Reducer> = {
  'POST /iommus': (c, _p, b, r) => void c.iommus.push({ ...(b as object), id: r.id } as never),
  'POST /devices': (c, _p, b, r) => void c.devices.push({ ...(b as object), id: r.id } as never),
  'PUT /devices/:device/features/:feature': (c, p) =>
    void c.features.push({ device: p.device!, feature: p.feature as never }),
  'DELETE /devices/:device/features/:feature': (c, p) =>
    without(c.features, (f) => f.device === p.device && f.feature === p.feature),
  'POST /devices/:device/attach': (c, p, b) =>
    void c.attachments.push({ device: p.device!, ...(b as { domain: string; pasid?: number }) }),
  'POST /devices/:device/detach': (c, p, b) =>
    without(
      c.attachments,
      (a) => a.device === p.device && a.pasid === (b as { pasid?: number } | undefined)?.pasid,
    ),
  'POST /devices/:device/bind': (c, p, b) =>
    void c.bindings.push({ device: p.device!, process: (b as { process: string }).process }),
  'POST /devices/:device/unbind': (c, p, b) =>
    without(c.bindings, (x) => x.device === p.device && x.process === (b as { process: string }).process),
  'POST /devices/:device/handlers': (c, p, b) =>
    void c.handlers.push({ device: p.device!, handler: b as never }),
  'DELETE /devices/:device/handlers/:slot': (c, p) =>
    without(
      c.handlers,
      (h) =>
        h.device === p.device &&
        (p.slot === 'all' ||
          !('categories' in h.handler) ||
          (h.handler.categories ?? []).includes(p.slot as never)),
    ),
  'POST /processes': (c, _p, b, r) =>
    void c.processes.push({ ...((b ?? {}) as { fiveLevel?: boolean }), id: r.id as string, vmas: [] }),
  'POST /processes/:process/mmap': (c, p, b, r) => {
    const process = c.processes.find((x) => x.id === p.process);
    const { size, prot } = b as { size: number | string; prot: string };
    process?.vmas?.push({ address: r.address as string, size, prot });
  },
  'POST /domains': (c, _p, b, r) => void c.domains.push({ ...(b as object), id: r.id } as never),
  'DELETE /domains/:domain': (c, p) => {
    without(c.domains, (d) => d.id === p.domain);
    without(c.mappings, (m) => m.domain === p.domain);
  },
  'POST /domains/:domain/mappings': (c, p, b) =>
    void c.mappings.push({ domain: p.domain!, ...(b as { iova: string; size: number; prot: string }) }),
  'POST /domains/:domain/handler': (c, p, b) =>
    void c.handlers.push({ domain: p.domain!, handler: b as never }),
};

/** Calls that change only what runs (time, caches, faults in flight): nothing a config holds. */
const RUNTIME = new Set([
  'POST /clock',
  'POST /dma',
  'POST /workloads',
  'POST /faults/:cookie/response',
  'POST /iommus/:iommu/invalidate',
  'POST /devices/:device/atc/invalidate',
  'POST /devices/:device/reset',
  'POST /processes/:process/populate',
  'POST /reset',
]);

export class LabSetup {
  config: Required<SystemConfig>;
  /** Calls that changed the lab in ways the config cannot hold. */
  readonly omitted: string[] = [];

  constructor(source: SystemConfig) {
    this.config = {
      options: {},
      devices: [],
      processes: [],
      domains: [],
      mappings: [],
      features: [],
      attachments: [],
      bindings: [],
      handlers: [],
      ...structuredClone(source),
    } as Required<SystemConfig>;
    for (const process of this.config.processes) process.vmas ??= [];
  }

  /**
   * `route` is the path after /labs/:lab, e.g. "POST /devices/:device/attach"; `result` gives the answer's
   * body, read only by the calls that need it (the ids and addresses the lab chose).
   */
  record(route: string, params: Params, body: Body, result: () => Result): void {
    const reducer = REDUCERS[route];
    if (reducer) reducer(this.config, params, body, result());
    else if (!RUNTIME.has(route)) this.omitted.push(route);
  }
}
