import { describe, expect, it } from 'vitest';
import {
  EVENT_KINDS,
  FAULT_KINDS,
  changesLabState,
  flowsOf,
  formatEventTime,
  sharesFlow,
  toRow,
} from './events';
import type { WireEvent } from '@iommu-lab/client';

const event = (fields: Record<string, unknown>) => ({ seq: 1, timeNs: 10, ...fields }) as WireEvent;

describe('event kinds', () => {
  it('lists every kind once, faults among them', () => {
    expect(new Set(EVENT_KINDS).size).toBe(EVENT_KINDS.length);
    expect(FAULT_KINDS).toContain('fault.awaiting-client');
    expect(FAULT_KINDS).not.toContain('dma.completed');
  });

  it("tells which kinds change the lab's snapshot: the topology, or the system stopping", () => {
    expect(changesLabState('sva.bound')).toBe(true);
    expect(changesLabState('fault.livelock')).toBe(true);
    expect(changesLabState('dma.page')).toBe(false);
    expect(changesLabState('iommu.queue-overflow')).toBe(false);
  });
});

describe('toRow', () => {
  it('summarises a fault group with its first address', () => {
    const row = toRow(
      event({
        kind: 'fault.group',
        group: 3,
        device: 'vf0',
        pasid: null,
        addresses: ['0x2000', '0x3000'],
        faults: 2,
        category: 'MAP',
        stage: 2,
        handler: 'external',
      }),
    );
    expect(row).toMatchObject({
      device: 'vf0',
      pasid: '—',
      address: '0x2000 +1',
      category: 'MAP',
      stage: '2',
      detail: 'group 3: 2 fault(s) → external',
    });
  });

  it('reads the awaiting-client faults list and the faulted DMA address', () => {
    expect(
      toRow(event({ kind: 'fault.awaiting-client', cookie: 7, faults: [{ address: '0x1000', perm: 'w' }] })),
    ).toMatchObject({ address: '0x1000', detail: 'cookie 7 awaits an answer', pasid: '' });
    expect(
      toRow(event({ kind: 'dma.faulted', faultAddress: '0x5000', access: 'read', error: 'unrecoverable' }))
        .address,
    ).toBe('0x5000');
  });

  it('names an unrecoverable fault by the code the hardware recorded, in hex', () => {
    const fault = { kind: 'fault.unrecoverable', access: 'write', fault: 'permission' };
    expect(
      toRow(event({ ...fault, family: 'smmuv3', reason: '0x10', codeName: 'F_TRANSLATION' })).detail,
    ).toBe('write permission: SMMUv3 event 0x10 F_TRANSLATION');
    expect(toRow(event({ ...fault, family: 'vtd', reason: '0x79', codeName: 'SM: W' })).detail).toBe(
      'write permission: VT-d fault reason 0x79 SM: W',
    );
  });

  it('says what an overflow storm lost, against what bound, and that the system stopped', () => {
    const livelock = { kind: 'fault.livelock', queue: 'PRQ', lostRequests: 4097, usefulFaults: 16 };
    expect(toRow(event({ ...livelock, bound: 256, device: 'd3' }))).toMatchObject({
      device: 'd3',
      detail: 'PRQ overflow storm: 4097 lost for 16 useful (bound 256 per fault), system stopped',
    });
    expect(FAULT_KINDS).toContain('fault.livelock');
  });

  it('falls back to scalar fields for other kinds', () => {
    expect(
      toRow(event({ kind: 'iommu.added', iommu: 'vtd0', family: 'vtd', profile: 'proposal' })).detail,
    ).toBe('iommu=vtd0 family=vtd profile=proposal');
  });
});

describe('event times in the table', () => {
  it('are simulated µs with thousands separators and ns precision', () => {
    expect(formatEventTime(13_225)).toBe('13.225');
    expect(formatEventTime(1_234_567_891)).toBe('1,234,567.891');
    expect(formatEventTime(0)).toBe('0.000');
  });
});

describe('flows of an event (the highlight of a selected flow)', () => {
  it('reads a flow id or the flows a group, response, retry or DMA names', () => {
    expect(flowsOf(event({ kind: 'pri.page-request', flow: 4 }))).toEqual([4]);
    expect(flowsOf(event({ kind: 'dma.retried', flows: [4, 5] }))).toEqual([4, 5]);
    expect(flowsOf(event({ kind: 'iommu.added' }))).toEqual([]);
    expect(sharesFlow([4], [5, 4])).toBe(true);
    expect(sharesFlow([4], [5])).toBe(false);
    expect(sharesFlow([], [])).toBe(false);
  });
});
