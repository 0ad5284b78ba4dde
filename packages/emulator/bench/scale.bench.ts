/**
 * The lab at the size the design names (issue 13, Scale): 1 000 devices on 4 IOMMUs, each device with a DMA
 * domain of 1 024 mapped 4 KiB pages (1 024 000 in all), and 65 536 processes with one resident page each,
 * bound for SVA (process p on device p mod 1 000, so 65 536 PASIDs). Each run is a fresh child process (the
 * same Node and loader, no flags: RSS never shrinks back once a lab is dropped, and the benches before this
 * one leave their own), which builds it, runs DMA over it, and reports:
 * - memory: RSS and heapUsed once the heap settles (below), against the same figures of that process just
 *   before the build (the emulator loaded, a small system built): the baseline is Node without the lab;
 * - translations/s through the IOMMU at random (device, page) over the 1 M pages, against the same loop on
 *   a small system (one device, one domain of 1 024 pages) in the same process;
 * - one-page DMA at random bound (device, PASID) to the resident page, against the same DMA on a small
 *   system with one bind.
 *
 * "Settled": global.gc needs a Node flag, so a full collection is asked through the inspector
 * (HeapProfiler.collectGarbage, what DevTools' "collect garbage" button sends), twice, with a turn of the
 * event loop between; RSS is then read with process.memoryUsage(). RSS counts what V8 and the allocator
 * keep mapped, not only what is live, so it is the figure a user's machine sees.
 */
import { fork } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import type { Device } from '../src/device/device';
import { DmaDomain } from '../src/domain/dma-domain';
import { newTranslation } from '../src/iommu/translation';
import { PERM_READ } from '../src/pagetable/permissions';
import { System } from '../src/system';
import { reportRuns } from './report';

const IOMMUS = 4;
const DEVICES = 1_000;
const PAGES_PER_DOMAIN = 1_024;
const BINDS = 65_536;
const RUNS = 3;
/** Where every domain's mapping and every process's resident page sit (page numbers). */
const IOVA_PAGE = 0x100000;
const TRANSLATIONS = 2_000_000;
const DMA_TRANSACTIONS = 200_000;
/** DMA in flight at once, as dma.bench.ts: more would measure the depth of the event heap. */
const DMA_BATCH = 1_000;
const MIB = 2 ** 20;
/** The argument that makes this file a run's child process. */
const CHILD_ARG = '--scale-run';

interface Lab {
  system: System;
  devices: Device[];
  /** For the SVA DMA: bind b's device and PASID. */
  bindDevices: Device[];
  bindPasids: Int32Array;
}

/** A system of `devices` devices on `iommus` IOMMUs with their DMA domains, and `binds` bound processes. */
function buildLab(iommus: number, devices: number, binds: number): Lab {
  const system = new System({ seed: 1, memoryFrames: 2 ** 21 });
  for (let i = 0; i < iommus; i++) system.addIommu({ id: `vtd${i}`, family: 'vtd', profile: 'mainline' });
  const lab: Lab = {
    system,
    devices: [],
    bindDevices: [],
    bindPasids: new Int32Array(binds),
  };
  for (let d = 0; d < devices; d++) {
    const device = system.addDevice({
      id: `dev${d}`,
      iommu: `vtd${d % iommus}`,
      ats: true,
      pri: { capacity: 32 },
      pasidBits: 20,
    });
    system.createDomain({ id: `dom${d}`, iommu: `vtd${d % iommus}`, type: 'dma' });
    system.map(`dom${d}`, {
      iova: `0x${(IOVA_PAGE * 4096).toString(16)}`,
      size: PAGES_PER_DOMAIN * 4096,
      prot: 'rw',
      pageSize: '4K',
    });
    system.attach(`dev${d}`, `dom${d}`);
    lab.devices.push(device);
  }
  for (let p = 0; p < binds; p++) {
    system.createProcess({ id: `p${p}` });
    system.mmap(`p${p}`, { address: `0x${(IOVA_PAGE * 4096).toString(16)}`, size: 4096, prot: 'rw' });
    system.populate(`p${p}`, `0x${(IOVA_PAGE * 4096).toString(16)}`, 4096);
    lab.bindPasids[p] = system.svaBind(`dev${p % devices}`, `p${p}`).pasid;
    lab.bindDevices.push(lab.devices[p % devices]!);
  }
  return lab;
}

/** A seeded sequence for the random choices (the emulator's RNG is its own; this is the driver's). */
function randomIndices(count: number, below: number, seed: number): Int32Array {
  const out = new Int32Array(count);
  let x = seed;
  for (let i = 0; i < count; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x % below;
  }
  return out;
}

/** Translations/s at random (device, page) over every device's domain. */
function translationRate(lab: Lab): number {
  const pick = randomIndices(TRANSLATIONS, lab.devices.length * PAGES_PER_DOMAIN, 7);
  const t = newTranslation();
  let sink = 0;
  const start = performance.now();
  for (let n = 0; n < TRANSLATIONS; n++) {
    const which = pick[n]!;
    const device = lab.devices[(which / PAGES_PER_DOMAIN) | 0]!;
    device.iommu.translate(device, -1, IOVA_PAGE + (which % PAGES_PER_DOMAIN), PERM_READ, false, t);
    sink += t.pfn;
  }
  const rate = TRANSLATIONS / ((performance.now() - start) / 1000);
  if (sink <= 0) throw new Error('scale: translations found no frames');
  return rate;
}

/** One-page DMA reads/s at random binds, each to its process's resident page. */
function svaDmaRate(lab: Lab): number {
  const pick = randomIndices(DMA_TRANSACTIONS, lab.bindPasids.length, 11);
  const start = performance.now();
  for (let batch = 0; batch < DMA_TRANSACTIONS; batch += DMA_BATCH) {
    for (let n = batch; n < batch + DMA_BATCH; n++) {
      const bind = pick[n]!;
      lab.system.submitDma({
        device: lab.bindDevices[bind]!,
        pasid: lab.bindPasids[bind]!,
        page: IOVA_PAGE,
        offset: 0,
        length: 64,
        access: 'read',
        privileged: false,
      });
    }
    lab.system.runUntilIdle();
  }
  const rate = DMA_TRANSACTIONS / ((performance.now() - start) / 1000);
  const { faults } = lab.system.metrics().system;
  if (faults.pageRequests + faults.stalls !== 0) throw new Error('scale: SVA DMA to resident pages faulted');
  return rate;
}

/** RSS and heapUsed in MiB after two full collections asked through the inspector (see the header). */
async function settledMemory(session: Session): Promise<{ rss: number; heap: number }> {
  for (let i = 0; i < 2; i++) {
    await session.post('HeapProfiler.collectGarbage');
    await new Promise((resolve) => setImmediate(resolve));
  }
  const { rss, heapUsed } = process.memoryUsage();
  return { rss: rss / MIB, heap: heapUsed / MIB };
}

/** One run's figures, sent from the child process to the bench. */
interface RunFigures {
  rss: number;
  heap: number;
  emptyRss: number;
  emptyHeap: number;
  buildSeconds: number;
  pageTableMiB: number;
  translations: number;
  smallTranslations: number;
  svaDma: number;
  smallSvaDma: number;
}

/** A run, in its own process: the small system, the memory without the lab, the lab, the rates, the memory. */
async function scaleRun(): Promise<RunFigures> {
  const session = new Session();
  session.connect();
  try {
    const small = buildLab(1, 1, 1);
    // Warm the JIT on the small system, so neither side of the first measurement is the compiler's.
    translationRate(small);
    svaDmaRate(small);
    const empty = await settledMemory(session);
    const start = performance.now();
    const lab = buildLab(IOMMUS, DEVICES, BINDS);
    const buildSeconds = (performance.now() - start) / 1000;
    // Each rate beside the small system's, so machine noise hits both alike.
    const translations = translationRate(lab);
    const smallTranslations = translationRate(small);
    const svaDma = svaDmaRate(lab);
    const smallSvaDma = svaDmaRate(small);
    // After the DMA: the state a user's lab is in once it has run (IOTLBs and ATCs filled).
    const built = await settledMemory(session);
    let pageTableBytes = 0;
    for (const process of lab.system.processes.values()) pageTableBytes += process.pageTable.storageBytes;
    for (const domain of lab.system.allDomains())
      if (domain instanceof DmaDomain) pageTableBytes += domain.pageTable.storageBytes;
    return {
      rss: built.rss,
      heap: built.heap,
      emptyRss: empty.rss,
      emptyHeap: empty.heap,
      buildSeconds,
      pageTableMiB: pageTableBytes / MIB,
      translations,
      smallTranslations,
      svaDma,
      smallSvaDma,
    };
  } finally {
    session.disconnect();
  }
}

/** Runs scaleRun in a child process of the same Node, loader included (process.execArgv), and waits for it. */
function scaleRunInChild(): Promise<RunFigures> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [CHILD_ARG], { execArgv: process.execArgv });
    let figures: RunFigures | undefined;
    child.on('message', (message) => (figures = message as RunFigures));
    child.on('error', reject);
    child.on('exit', (code) =>
      figures && code === 0 ? resolve(figures) : reject(new Error(`scale run exited with ${code}`)),
    );
  });
}

export async function benchScale(): Promise<void> {
  const runs: RunFigures[] = [];
  for (let run = 0; run < RUNS; run++) runs.push(await scaleRunInChild());
  const of = (key: keyof RunFigures) => runs.map((figures) => figures[key]);
  const range = (key: keyof RunFigures, digits: number) => {
    const values = of(key).sort((a, b) => a - b);
    return `${values[0]!.toFixed(digits)}–${values.at(-1)!.toFixed(digits)}`;
  };
  const shape = `${DEVICES} devices on ${IOMMUS} IOMMUs, ${(DEVICES * PAGES_PER_DOMAIN).toLocaleString('en-US')} mapped 4 KiB pages, ${BINDS.toLocaleString('en-US')} SVA binds with a resident page each`;
  reportRuns({
    name: 'scale-rss',
    unit: 'MiB',
    runs: of('rss'),
    baselineRuns: of('emptyRss'),
    better: 'lower',
    note: `${shape} (goal < 1 024 MiB; built in ${range('buildSeconds', 1)} s; page tables hold ${range('pageTableMiB', 0)} MiB); a fresh process a run, after two inspector-requested full GCs; baseline: that process before the build`,
  });
  reportRuns({
    name: 'scale-heap-used',
    unit: 'MiB',
    runs: of('heap'),
    baselineRuns: of('emptyHeap'),
    better: 'lower',
    note: 'V8 heap in use at the same moments (typed arrays’ contents are outside it, in RSS)',
  });
  reportRuns({
    name: 'scale-translations',
    unit: 'ops/s',
    runs: of('translations'),
    baselineRuns: of('smallTranslations'),
    better: 'higher',
    note: `${TRANSLATIONS.toLocaleString('en-US')} IOMMU translations at random (device, page) over the mapped pages; baseline: the same on 1 device with ${PAGES_PER_DOMAIN} pages`,
  });
  reportRuns({
    name: 'scale-sva-random-pasid-dma',
    unit: 'tx/s',
    runs: of('svaDma'),
    baselineRuns: of('smallSvaDma'),
    better: 'higher',
    note: `${DMA_TRANSACTIONS.toLocaleString('en-US')} one-page DMA reads at random bound (device, PASID), resident pages; baseline: the same DMA on 1 device with 1 bind`,
  });
}

if (process.argv.includes(CHILD_ARG)) {
  process.send!(await scaleRun());
  process.disconnect();
}
