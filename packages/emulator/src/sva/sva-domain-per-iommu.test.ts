import { describe, expect, it } from 'vitest';
import { SvaDomain } from '../domain/sva-domain';
import { System } from '../system';
import { PRI_DEVICE } from '../testing/fixtures';

/** Two VT-d IOMMUs (mainline), two PRI devices on the first and one on the second, two processes. */
function twoIommus(): System {
  const system = new System({ seed: 1, memoryFrames: 2 ** 16 });
  for (const id of ['vtd0', 'vtd1']) system.addIommu({ id, family: 'vtd', profile: 'mainline' });
  system.addDevice({ id: 'a', iommu: 'vtd0', ...PRI_DEVICE });
  system.addDevice({ id: 'b', iommu: 'vtd0', ...PRI_DEVICE });
  system.addDevice({ id: 'c', iommu: 'vtd1', ...PRI_DEVICE });
  for (const id of ['p1', 'p2']) system.createProcess({ id });
  return system;
}

/** Each IOMMU's map from process to SVA domain, by ids, checked against the SVA domains it holds. */
function svaDomainsOf(system: System, iommuId: string): Record<string, string> {
  const iommu = system.iommu(iommuId);
  const held = [...iommu.domains.values()].filter((domain) => domain instanceof SvaDomain);
  expect([...iommu.svaDomains.values()].sort()).toEqual(held.sort());
  for (const [process, domain] of iommu.svaDomains) expect(domain.process).toBe(process);
  return Object.fromEntries([...iommu.svaDomains].map(([process, domain]) => [process.id, domain.id]));
}

describe("each IOMMU's map from process to SVA domain (one SVA domain per mm and IOMMU, reference §3)", () => {
  it('follows bind, a second device, unbind and rebind: the domain goes at its last unbind, a rebind makes a new one', () => {
    const s = twoIommus();
    const first = s.svaBind('a', 'p1').domain;
    expect(svaDomainsOf(s, 'vtd0')).toEqual({ p1: first });
    expect(s.svaBind('b', 'p1').domain).toBe(first); // same mm, same IOMMU: the same domain
    const other = s.svaBind('a', 'p2').domain;
    expect(svaDomainsOf(s, 'vtd0')).toEqual({ p1: first, p2: other });
    s.svaUnbind('a', 'p1');
    expect(svaDomainsOf(s, 'vtd0')).toEqual({ p1: first, p2: other }); // b still holds it
    s.svaUnbind('b', 'p1');
    expect(svaDomainsOf(s, 'vtd0')).toEqual({ p2: other });
    const again = s.svaBind('b', 'p1').domain;
    expect(again).not.toBe(first);
    expect(svaDomainsOf(s, 'vtd0')).toEqual({ p1: again, p2: other });
  });

  it('keeps two IOMMUs apart: one process has a domain on each, and unbinding on one leaves the other', () => {
    const s = twoIommus();
    const onFirst = s.svaBind('a', 'p1').domain;
    const onSecond = s.svaBind('c', 'p1').domain;
    expect(onSecond).not.toBe(onFirst);
    expect(svaDomainsOf(s, 'vtd0')).toEqual({ p1: onFirst });
    expect(svaDomainsOf(s, 'vtd1')).toEqual({ p1: onSecond });
    s.svaUnbind('a', 'p1');
    expect(svaDomainsOf(s, 'vtd0')).toEqual({});
    expect(svaDomainsOf(s, 'vtd1')).toEqual({ p1: onSecond });
    expect(s.svaBind('b', 'p1').domain).not.toBe(onSecond);
  });

  it('is left as it was by a refused bind, of a process with a domain here or without one', () => {
    const s = twoIommus();
    const first = s.svaBind('a', 'p1').domain; // p1 takes PASID 1; p2 would take 2
    s.createDomain({ id: 'dma', iommu: 'vtd0', type: 'dma' });
    for (const pasid of [1, 2]) s.attach('b', 'dma', { pasid });
    for (const process of ['p1', 'p2'])
      expect(() => s.svaBind('b', process)).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    expect(svaDomainsOf(s, 'vtd0')).toEqual({ p1: first });
  });
});
