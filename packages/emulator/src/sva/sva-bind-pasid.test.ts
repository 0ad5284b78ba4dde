import { describe, expect, it } from 'vitest';
import { System } from '../system';
import { PRI_DEVICE, capture, expectRefused, systemWith } from '../testing/fixtures';

function mainline(
  devices = [
    { id: 'a', ...PRI_DEVICE },
    { id: 'b', ...PRI_DEVICE },
  ],
  options = {},
): System {
  const system = systemWith('vtd', 'mainline', devices, options);
  system.createProcess({ id: 'p1' });
  system.createProcess({ id: 'p2' });
  return system;
}

describe('SVA bind and its PASID rules (reference §3, iommu-sva.c)', () => {
  it('gives a process one PASID, from 1, shared by every device it binds', () => {
    const s = mainline();
    expect(s.svaBind('a', 'p1').pasid).toBe(1);
    expect(s.svaBind('b', 'p1').pasid).toBe(1);
    expect(s.svaBind('a', 'p2').pasid).toBe(2);
    // Both devices share one SVA domain for p1 on this IOMMU.
    const p1Domains = s.describe().domains.filter((d) => d.process === 'p1');
    expect(p1Domains).toHaveLength(1);
    expect(p1Domains[0]!.attachments).toEqual([
      { device: 'a', pasid: 1 },
      { device: 'b', pasid: 1 },
    ]);
  });

  it('takes another reference on an existing bond; the bond goes at the last unbind', () => {
    const s = mainline();
    s.svaBind('a', 'p1');
    s.svaBind('a', 'p1');
    expect(s.describe().devices[0]!.bonds).toEqual([{ process: 'p1', pasid: 1, refs: 2 }]);
    s.svaUnbind('a', 'p1');
    expect(s.describe().devices[0]!.bonds).toEqual([{ process: 'p1', pasid: 1, refs: 1 }]);
    s.svaUnbind('a', 'p1');
    expect(s.describe().devices[0]!.bonds).toEqual([]);
    expect(s.describe().domains).toEqual([]);
    expectRefused(s, () => s.svaUnbind('a', 'p1'), 'ENOENT', 'not-bound');
  });

  it('keeps the PASID after unbind while the process lives, and frees it when the process exits', () => {
    const s = mainline();
    s.svaBind('a', 'p1');
    s.svaUnbind('a', 'p1');
    expect(s.describe().processes[0]!.pasid).toBe(1);
    const freed = capture(s, 'pasid.freed');
    s.exitProcess('p1');
    expect(freed).toEqual([expect.objectContaining({ process: 'p1', pasid: 1 })]);
    expect(s.svaBind('a', 'p2').pasid).toBe(1); // reused
  });

  it('frees the PASID of an exited process only at its last unbind', () => {
    const s = mainline();
    s.svaBind('a', 'p1');
    s.svaBind('b', 'p1');
    const freed = capture(s, 'pasid.freed');
    s.exitProcess('p1');
    expect(freed).toHaveLength(0);
    s.svaUnbind('a', 'p1');
    expect(freed).toHaveLength(0);
    s.svaUnbind('b', 'p1');
    expect(freed).toHaveLength(1);
  });

  it('refuses a process PASID at or beyond the device limit with EOVERFLOW', () => {
    const s = mainline([
      { id: 'wide', ...PRI_DEVICE },
      { id: 'narrow', ...PRI_DEVICE, pasidBits: 1 },
    ]);
    s.svaBind('wide', 'p1'); // PASID 1: below the narrow device's limit of 2
    s.svaBind('wide', 'p2'); // PASID 2
    s.svaBind('narrow', 'p1');
    expectRefused(s, () => s.svaBind('narrow', 'p2'), 'EOVERFLOW', 'pasid-too-large');
  });

  it('refuses with ENOSPC when the PASID space is used up', () => {
    const s = mainline([{ id: 'a', ...PRI_DEVICE }], { pasidBits: 2 }); // PASIDs 1..3
    for (const id of ['p3', 'p4']) s.createProcess({ id });
    s.svaBind('a', 'p1');
    s.svaBind('a', 'p2');
    s.svaBind('a', 'p3');
    expectRefused(s, () => s.svaBind('a', 'p4'), 'ENOSPC', 'pasid-space-exhausted');
  });

  it('refuses with EBUSY when the PASID slot on the device holds another domain', () => {
    const s = mainline();
    s.svaBind('b', 'p1'); // p1 gets PASID 1
    s.createDomain({ id: 'dma', iommu: 'iommu0', type: 'dma' });
    s.attach('a', 'dma', { pasid: 1 });
    expectRefused(s, () => s.svaBind('a', 'p1'), 'EBUSY', 'pasid-busy');
  });

  it('refuses an exited process (ESRCH) and, under seed-5.13, a device without SVA enabled (ENODEV)', () => {
    const s = mainline();
    s.exitProcess('p2');
    expectRefused(s, () => s.svaBind('a', 'p2'), 'ESRCH', 'exited');
    const seed = systemWith('vtd', 'seed-5.13', [{ id: 'a', ...PRI_DEVICE }]);
    seed.createProcess({ id: 'p1' });
    expectRefused(seed, () => seed.svaBind('a', 'p1'), 'ENODEV', 'sva-not-enabled');
  });
});
