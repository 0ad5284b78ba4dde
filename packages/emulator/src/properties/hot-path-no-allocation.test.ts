import { PerformanceObserver } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { newTranslation } from '../iommu/translation';
import { PERM_READ } from '../pagetable/permissions';
import { System } from '../system';

/**
 * Garbage collections (minor ones included) that started while `work` ran. `work` runs twice and only the
 * second run is measured, so it runs optimised: unoptimised code boxes numbers and would allocate.
 */
async function collectionsDuring(work: () => void): Promise<number> {
  work();
  const entries: { startTime: number }[] = [];
  const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const start = performance.now();
  work();
  const end = performance.now();
  // GC entries are delivered asynchronously; count only those that started inside the measured run.
  await new Promise((resolve) => setTimeout(resolve, 20));
  observer.disconnect();
  return entries.filter((entry) => entry.startTime >= start && entry.startTime <= end).length;
}

function setup(pages: number, spread: number) {
  const system = new System({ seed: 1, memoryFrames: 2 ** 21 });
  system.addIommu({ id: 'iommu0', family: 'vtd', profile: 'mainline' });
  system.addDevice({ id: 'dev0', iommu: 'iommu0' });
  system.createDomain({ id: 'dom0', iommu: 'iommu0', type: 'dma' });
  const list = new Float64Array(pages);
  for (let i = 0; i < pages; i++) {
    list[i] = 0x100 + i * spread;
    system.map('dom0', { iova: `0x${((0x100 + i * spread) * 4096).toString(16)}`, size: 4096, prot: 'rw' });
  }
  system.attach('dev0', 'dom0');
  return { iommu: system.iommu('iommu0'), device: system.device('dev0'), pages: list };
}

describe('the translation hot paths do not allocate', () => {
  it('a control loop that allocates does trigger collections (the measurement can fail)', async () => {
    const sink: unknown[] = [];
    const collections = await collectionsDuring(() => {
      for (let i = 0; i < 3_000_000; i++) sink[i & 1023] = { i, more: [i] };
    });
    expect(collections).toBeGreaterThan(0);
  });

  it('an IOTLB hit allocates nothing: no collection in 3 million translations', async () => {
    const { iommu, device, pages } = setup(256, 1);
    const t = newTranslation();
    let frames = 0;
    for (const page of pages) iommu.translate(device, -1, page, PERM_READ, false, t); // warm the IOTLB and the JIT
    const collections = await collectionsDuring(() => {
      for (let i = 0; i < 3_000_000; i++) {
        iommu.translate(device, -1, pages[i & 255]!, PERM_READ, false, t);
        frames += t.pfn;
      }
    });
    expect(frames).toBeGreaterThan(0);
    expect(iommu.iotlb.hitRate()).toBeGreaterThan(0.99);
    expect(collections).toBe(0);
  });

  it('a full walk on an IOTLB miss allocates nothing either', async () => {
    const { iommu, device, pages } = setup(16_384, 9);
    const t = newTranslation();
    const order = new Float64Array(1 << 16);
    let x = 7;
    for (let i = 0; i < order.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      order[i] = pages[x % pages.length]!;
    }
    for (let i = 0; i < 100_000; i++) iommu.translate(device, -1, order[i & 0xffff]!, PERM_READ, false, t);
    const misses = iommu.iotlb.misses;
    const collections = await collectionsDuring(() => {
      for (let i = 0; i < 1_000_000; i++)
        iommu.translate(device, -1, order[i & 0xffff]!, PERM_READ, false, t);
    });
    expect(iommu.iotlb.misses - misses).toBeGreaterThan(900_000);
    expect(collections).toBe(0);
  });
});
