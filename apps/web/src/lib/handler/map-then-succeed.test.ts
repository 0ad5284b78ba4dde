import { describe, expect, it } from 'vitest';
import type { SystemView } from '@iommu-lab/client';
import { pageOf, planMapThenSucceed } from './map-then-succeed';

const device = (over: object) => ({ id: 'vf0', domain: null, pasids: [], bonds: [], ...over });
const system = (devices: object[], domains: object[]) => ({ devices, domains }) as unknown as SystemView;

describe('map this page, then SUCCESS', () => {
  it('maps each faulting page once, in the device’s DMA domain, writable when a fault wrote', () => {
    const plan = planMapThenSucceed(
      {
        device: 'vf0',
        pasid: null,
        stage: 2,
        faults: [
          { address: '0x42010', perm: 'r' },
          { address: '0x42ff0', perm: 'w' },
          { address: '0x43000', perm: 'r' },
        ],
      },
      system([device({ domain: 'vm' })], [{ id: 'vm', type: 'dma' }]),
    );
    expect(plan).toEqual({
      steps: [
        { kind: 'map', domain: 'vm', iova: '0x42000', prot: 'rw' },
        { kind: 'map', domain: 'vm', iova: '0x43000', prot: 'r' },
      ],
    });
  });

  it('populates the bound process’s page for an SVA PASID', () => {
    const plan = planMapThenSucceed(
      { device: 'vf0', pasid: 1, stage: 1, faults: [{ address: '0x7f0000001234', perm: 'r' }] },
      system([device({ bonds: [{ process: 'app', pasid: 1, refs: 1 }] })], []),
    );
    expect(plan).toEqual({ steps: [{ kind: 'populate', process: 'app', address: '0x7f0000001000' }] });
  });

  it('maps a stage-2 fault of a nested domain in its parent, and leaves stage 1 to the guest', () => {
    const lab = system(
      [device({ domain: 'guest' })],
      [
        { id: 'guest', type: 'nested', parent: 'host' },
        { id: 'host', type: 'dma' },
      ],
    );
    const fault = { device: 'vf0', pasid: null, faults: [{ address: '0x40001000', perm: 'w' }] };
    expect(planMapThenSucceed({ ...fault, stage: 2 }, lab)).toEqual({
      steps: [{ kind: 'map', domain: 'host', iova: '0x40001000', prot: 'rw' }],
    });
    expect(planMapThenSucceed({ ...fault, stage: 1 }, lab)).toHaveProperty('refused');
  });

  it('pages of 57-bit addresses stay exact', () => {
    expect(pageOf('0x1fffffffffffffff')).toBe('0x1ffffffffffff000');
  });
});
