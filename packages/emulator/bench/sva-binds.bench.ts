/**
 * SVA bind at scale (issue 13, Scale): 65 536 binds over 1 000 devices on 4 IOMMUs, one process (so one
 * PASID, 64 k of them) a bind, process p on device p mod 1 000, so each IOMMU ends with 16 384 SVA domains.
 * Each run times the binds in blocks of 8 192 (the processes are created before, untimed) and reports the
 * first block, the last block and last / first: a bind whose cost grows with the PASIDs or domains already
 * there shows as growth (goal: last ≤ 1.5× first). Baseline: the same number of insertions into one Map,
 * timed in the same blocks, whose own growth (rehashing) is the floor of what a growing structure costs.
 * A block of 8 192 binds takes 40-130 ms, and a major collection of the growing heap (20-50 ms) falls in
 * some blocks and not others, so the growth is also given without the collections' pauses inside each
 * block (`sva-binds-growth-without-gc`, from the `gc` performance entries): the binds' own growth.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { System } from '../src/system';
import { ROUNDS, reportRuns } from './report';

const IOMMUS = 4;
const DEVICES = 1_000;
const BINDS = 65_536;
const BLOCK = 8_192;
const BLOCKS = BINDS / BLOCK;

/** Milliseconds each block of BLOCK operations took, in order, and the same less the GC pauses in it. */
interface BlockTimes {
  wall: number[];
  withoutGc: number[];
}

async function timeBlocks(operation: (index: number) => void): Promise<BlockTimes> {
  const pauses: { startTime: number; duration: number }[] = [];
  const observer = new PerformanceObserver((list) => pauses.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const spans: [start: number, end: number][] = [];
  for (let block = 0; block < BLOCKS; block++) {
    const start = performance.now();
    for (let index = block * BLOCK; index < (block + 1) * BLOCK; index++) operation(index);
    spans.push([start, performance.now()]);
  }
  // GC entries are delivered asynchronously: let them in before reading them.
  await new Promise((resolve) => setTimeout(resolve, 20));
  observer.disconnect();
  const inside = ([start, end]: [number, number]) =>
    pauses.reduce((sum, gc) => (gc.startTime >= start && gc.startTime < end ? sum + gc.duration : sum), 0);
  return {
    wall: spans.map(([start, end]) => end - start),
    withoutGc: spans.map((span) => span[1] - span[0] - inside(span)),
  };
}

async function bindRun(): Promise<BlockTimes> {
  const system = new System({ seed: 1 });
  for (let i = 0; i < IOMMUS; i++) system.addIommu({ id: `vtd${i}`, family: 'vtd', profile: 'mainline' });
  for (let d = 0; d < DEVICES; d++)
    system.addDevice({
      id: `dev${d}`,
      iommu: `vtd${d % IOMMUS}`,
      ats: true,
      pri: { capacity: 32 },
      pasidBits: 20,
    });
  for (let p = 0; p < BINDS; p++) system.createProcess({ id: `p${p}` });
  const times = await timeBlocks((p) => system.svaBind(`dev${p % DEVICES}`, `p${p}`));
  const domains = [...system.iommus.values()].reduce((sum, iommu) => sum + iommu.domains.size, 0);
  if (domains !== BINDS) throw new Error(`sva-binds: ${domains} SVA domains after ${BINDS} binds`);
  return times;
}

async function mapRun(): Promise<BlockTimes> {
  const map = new Map<number, number>();
  const times = await timeBlocks((index) => map.set(index, index));
  if (map.size !== BINDS) throw new Error(`sva-binds baseline: ${map.size} entries`);
  return times;
}

export async function benchSvaBinds(): Promise<void> {
  // One unreported run of each warms the JIT, so the first block is not the compiler's.
  await bindRun();
  await mapRun();
  const binds: BlockTimes[] = [];
  const maps: BlockTimes[] = [];
  // Alternating, so machine noise hits both alike.
  for (let run = 0; run < ROUNDS; run++) {
    binds.push(await bindRun());
    maps.push(await mapRun());
  }
  const shape = `${BINDS.toLocaleString('en-US')} binds, ${DEVICES} devices on ${IOMMUS} IOMMUs, one process each`;
  const baseline = `baseline: ${BINDS.toLocaleString('en-US')} Map insertions in the same blocks`;
  const figures: [name: string, unit: string, of: (times: BlockTimes) => number, note: string][] = [
    ['sva-binds-first-block', `ms/${BLOCK} binds`, ({ wall }) => wall[0]!, `${shape}; ${baseline}`],
    ['sva-binds-last-block', `ms/${BLOCK} binds`, ({ wall }) => wall[BLOCKS - 1]!, `${shape}; ${baseline}`],
    [
      'sva-binds-growth',
      'last/first',
      ({ wall }) => wall[BLOCKS - 1]! / wall[0]!,
      `goal ≤ 1.5; ${baseline}, last block / first`,
    ],
    [
      'sva-binds-growth-without-gc',
      'last/first',
      ({ withoutGc }) => withoutGc[BLOCKS - 1]! / withoutGc[0]!,
      `the same less the GC pauses inside each block; ${baseline}, likewise`,
    ],
  ];
  for (const [name, unit, of, note] of figures)
    reportRuns({ name, unit, runs: binds.map(of), baselineRuns: maps.map(of), better: 'lower', note });
}
