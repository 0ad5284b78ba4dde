/**
 * A walk shown to a person gives each level's table address and the raw entry decoded by its format
 * (pte-decode.ts): a parent's pointer is its child's table address, a leaf's address bits are the frame.
 */
import { describe, expect, it } from 'vitest';
import { System } from '../system';

function walkOf(family: 'vtd' | 'smmuv3') {
  const system = new System({ seed: 1 });
  system.addIommu({ id: 'io0', family, profile: 'seed-5.13' });
  system.createDomain({ id: 'd0', iommu: 'io0', type: 'dma' });
  system.map('d0', { iova: '0x100000', size: 0x1000, prot: 'r' });
  return system.walk('d0', '0x100000');
}

const bitsOf = (step: { bits?: { name: string; value: number | string }[] }) =>
  Object.fromEntries((step.bits ?? []).map((b) => [b.name, b.value]));

describe('page walk: table addresses and raw entries decoded', () => {
  it('VT-d second level: each pointer holds the next table address; the leaf is R=1 W=0 at its frame', () => {
    const walk = walkOf('vtd');
    const steps = walk.stage2!;
    expect(walk.format.stage2).toBe('vtd-sl');
    expect(steps).toHaveLength(4);
    for (let i = 0; i + 1 < steps.length; i++) expect(bitsOf(steps[i]!).ADDR).toBe(steps[i + 1]!.tablePa);
    const leaf = steps.at(-1)!;
    expect(leaf.raw).toMatch(/^0x[0-9a-f]{16}$/);
    expect(bitsOf(leaf)).toMatchObject({ R: 1, W: 0, PS: 0, ADDR: leaf.output });
  });

  it('SMMUv3 stage 1: a read-only page is AP[2]=1 (read-only), AF=1, UXN=1, a page descriptor', () => {
    const walk = walkOf('smmuv3');
    expect(walk.format.stage1).toBe('arm-s1');
    const leaf = walk.stage1!.at(-1)!;
    expect(bitsOf(leaf)).toMatchObject({ VALID: 1, PAGE: 1, 'AP[2] (RO)': 1, AF: 1, UXN: 1 });
    expect(bitsOf(leaf).OA).toBe(leaf.output);
  });
});
