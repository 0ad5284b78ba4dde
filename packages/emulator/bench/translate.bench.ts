/**
 * Translation speed on one core: the IOTLB hit path and the full 4-level walk (IOTLB miss), each beside a
 * tight-loop baseline measured in the same run, round by round (a Map lookup; a bare typed-array 4-level walk). Also counts
 * garbage collections during the hit loop: the hit path must not allocate.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { System } from '../src/system';
import { newTranslation } from '../src/iommu/translation';
import { PERM_READ } from '../src/pagetable/permissions';
import { reportRuns, roundsOf } from './report';

const BATCH = 10_000;

function setup(workingSetPages: number, spreadPages: number) {
  const system = new System({ seed: 1, memoryFrames: 2 ** 22 });
  system.addIommu({ id: 'iommu0', family: 'vtd', profile: 'mainline' });
  system.addDevice({ id: 'dev0', iommu: 'iommu0' });
  system.createDomain({ id: 'dom0', iommu: 'iommu0', type: 'dma' });
  // Map `workingSetPages` 4 KiB pages spread `spreadPages` apart, so the walk touches many tables.
  const pages = new Float64Array(workingSetPages);
  for (let i = 0; i < workingSetPages; i++) {
    const page = 0x100000 + i * spreadPages;
    system.map('dom0', { iova: `0x${(page * 4096).toString(16)}`, size: 4096, prot: 'rw', pageSize: '4K' });
    pages[i] = page;
  }
  system.attach('dev0', 'dom0');
  return { system, iommu: system.iommu('iommu0'), device: system.device('dev0'), pages };
}

/** A bare 4-level radix walk over Int32Array tables: the floor of what a walk can cost in JS. */
function bareTables(pages: Float64Array): (page: number) => number {
  const nodes: Int32Array[] = [new Int32Array(512)];
  const tables = (): number => nodes.push(new Int32Array(512)) - 1;
  for (const page of pages) {
    let node = 0;
    for (let level = 3; level >= 1; level--) {
      const index = Math.floor(page / 512 ** level) % 512;
      let next = nodes[node]![index]!;
      if (next === 0) nodes[node]![index] = next = tables();
      node = next;
    }
    nodes[node]![page % 512] = (page % 1_000_000) + 1;
  }
  return (page: number): number => {
    let node = 0;
    for (let level = 3; level >= 1; level--) node = nodes[node]![Math.floor(page / 512 ** level) % 512]!;
    return nodes[node]![page % 512]!;
  };
}

export async function benchTranslate(): Promise<void> {
  // Hit path: 512 pages fit the 1024-entry, 8-way IOTLB.
  const hot = setup(512, 1);
  const hotMask = hot.pages.length - 1;
  const t = newTranslation();
  const map = new Map<number, number>();
  for (const page of hot.pages) map.set(page, page + 7);
  for (const page of hot.pages) hot.iommu.translate(hot.device, -1, page, PERM_READ, false, t);

  // Miss path: 65,536 pages spread 8 apart (2 GiB of IOVA), random order; the IOTLB holds 1024.
  const cold = setup(65_536, 8);
  const order = new Float64Array(1 << 20);
  let x = 12345;
  for (let i = 0; i < order.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    order[i] = cold.pages[x % cold.pages.length]!;
  }
  const orderMask = order.length - 1;
  const bare = bareTables(cold.pages);

  let i = 0;
  let sink = 0;
  // Each round runs the four in this order, so each value sits next to its baseline.
  const rates = roundsOf(
    {
      'iotlb-hit': () => {
        for (let n = 0; n < BATCH; n++) {
          hot.iommu.translate(hot.device, -1, hot.pages[i++ & hotMask]!, PERM_READ, false, t);
          sink += t.pfn;
        }
      },
      'baseline-map-lookup': () => {
        for (let n = 0; n < BATCH; n++) sink += map.get(hot.pages[i++ & hotMask]!)!;
      },
      'walk-4-level': () => {
        for (let n = 0; n < BATCH; n++) {
          cold.iommu.translate(cold.device, -1, order[i++ & orderMask]!, PERM_READ, false, t);
          sink += t.pfn;
        }
      },
      'baseline-typed-array-walk': () => {
        for (let n = 0; n < BATCH; n++) sink += bare(order[i++ & orderMask]!);
      },
    },
    BATCH,
  );

  // Garbage collections during 10 M hit-path translations: none expected.
  let collections = 0;
  const observer = new PerformanceObserver((list) => (collections += list.getEntries().length));
  observer.observe({ entryTypes: ['gc'] });
  for (let n = 0; n < 10_000_000; n++)
    hot.iommu.translate(hot.device, -1, hot.pages[n & hotMask]!, PERM_READ, false, t);
  await new Promise((resolve) => setImmediate(resolve));
  observer.disconnect();

  const hitRate = cold.iommu.iotlb.hitRate();
  reportRuns({
    name: 'iotlb-hit-translations',
    unit: 'ops/s',
    runs: rates['iotlb-hit']!,
    baselineRuns: rates['baseline-map-lookup']!,
    better: 'higher',
    note: `GCs during 10M hits: ${collections}; baseline: a Map lookup`,
  });
  reportRuns({
    name: 'walk-4-level-translations',
    unit: 'ops/s',
    runs: rates['walk-4-level']!,
    baselineRuns: rates['baseline-typed-array-walk']!,
    better: 'higher',
    note: `IOTLB hit rate on this set: ${(hitRate * 100).toFixed(1)}%; baseline: a bare typed-array walk`,
  });
  if (sink === 42) console.log('');
}
