/**
 * SVA bind at scale (issue 13, Scale): 65 536 binds over 1 000 devices on 4 IOMMUs, one process (so one
 * PASID, 64 k of them) a bind, process p on device p mod 1 000, so each IOMMU ends with 16 384 SVA domains.
 * Each run times the binds in blocks of 8 192 (the processes are created before, untimed) and reports the
 * first block, the last block and last / first: a bind whose cost grows with the PASIDs or domains already
 * there shows as growth (goal: last ≤ 1.5× first). Baseline: the same number of insertions into one Map,
 * timed in the same blocks, whose own growth (rehashing) is the floor of what a growing structure costs.
 */
import { System } from '../src/system';
import { ROUNDS, reportRuns } from './report';

const IOMMUS = 4;
const DEVICES = 1_000;
const BINDS = 65_536;
const BLOCK = 8_192;
const BLOCKS = BINDS / BLOCK;

/** Milliseconds each block of BLOCK operations took, in order. */
type BlockTimes = number[];

function timeBlocks(operation: (index: number) => void): BlockTimes {
  const times: BlockTimes = [];
  for (let block = 0; block < BLOCKS; block++) {
    const start = performance.now();
    for (let index = block * BLOCK; index < (block + 1) * BLOCK; index++) operation(index);
    times.push(performance.now() - start);
  }
  return times;
}

function bindRun(): BlockTimes {
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
  const times = timeBlocks((p) => system.svaBind(`dev${p % DEVICES}`, `p${p}`));
  const domains = [...system.iommus.values()].reduce((sum, iommu) => sum + iommu.domains.size, 0);
  if (domains !== BINDS) throw new Error(`sva-binds: ${domains} SVA domains after ${BINDS} binds`);
  return times;
}

function mapRun(): BlockTimes {
  const map = new Map<number, number>();
  const times = timeBlocks((index) => map.set(index, index));
  if (map.size !== BINDS) throw new Error(`sva-binds baseline: ${map.size} entries`);
  return times;
}

export function benchSvaBinds(): void {
  // One unreported run of each warms the JIT, so the first block is not the compiler's.
  bindRun();
  mapRun();
  const binds: BlockTimes[] = [];
  const maps: BlockTimes[] = [];
  // Alternating, so machine noise hits both alike.
  for (let run = 0; run < ROUNDS; run++) {
    binds.push(bindRun());
    maps.push(mapRun());
  }
  const shape = `${BINDS.toLocaleString('en-US')} binds, ${DEVICES} devices on ${IOMMUS} IOMMUs, one process each`;
  const baseline = `baseline: ${BINDS.toLocaleString('en-US')} Map insertions in the same blocks`;
  const figures: [name: string, unit: string, of: (times: BlockTimes) => number, note: string][] = [
    ['sva-binds-first-block', `ms/${BLOCK} binds`, (times) => times[0]!, `${shape}; ${baseline}`],
    ['sva-binds-last-block', `ms/${BLOCK} binds`, (times) => times[BLOCKS - 1]!, `${shape}; ${baseline}`],
    [
      'sva-binds-growth',
      'last/first',
      (times) => times[BLOCKS - 1]! / times[0]!,
      `goal ≤ 1.5; ${baseline}, last block / first`,
    ],
  ];
  for (const [name, unit, of, note] of figures)
    reportRuns({ name, unit, runs: binds.map(of), baselineRuns: maps.map(of), better: 'lower', note });
}
