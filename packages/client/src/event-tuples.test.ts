/**
 * The stream's `tuples` encoding, end to end in memory: the server's encoder (apps/api) and this client's
 * decoder give back every real event of the emulator as the `json` encoding does (same keys, same order,
 * same values), in the hub's batch size, with or without compiled builders; and a batch the format does not
 * allow is refused with EPROTO rather than guessed at.
 */
import {
  EVENT_KINDS,
  type EmulatorEvent,
  IOMMU_HWPT_ALLOC,
  IOMMU_VEVENTQ_TYPE,
  IOMMU_VIOMMU_TYPE,
  PRESETS,
  System,
  buildSystem,
  decodePgfaults,
  hwptPageResponse,
} from '@iommu-lab/emulator';
import { EventTupleEncoder } from '@iommu-lab/api/src/stream/event-tuples';
import { DEFAULT_STREAM_LIMITS } from '@iommu-lab/api/src/stream/stream-hub';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventTupleDecoder } from './event-tuples';
import { ProtocolError } from './errors';
import type { EventTuplesMessage, WireEvent } from './types';

const USER_BASE = 0x7f0000000000;
const user = (offset: number) => `0x${(USER_BASE + offset).toString(16)}`;
/** Events run at most per scene: enough for every kind a scene reaches, few enough for a quick test. */
const SCENE_EVENTS = 20_000;

/**
 * Kinds no scene below reaches: partials dropped by a reset need the reset to fall between a group's first
 * and last request reaching the driver, which reads a burst's requests in one drain; a livelock needs an
 * overflow storm of hundreds of devices. Any other kind missing fails the test.
 */
const NOT_REACHED = new Set<string>(['fault.partials-dropped', 'fault.livelock']);

/** A system whose every event, from its first, goes to `events`. */
function recorded(events: EmulatorEvent[]): System {
  const system = new System({ seed: 1, memoryFrames: 4096 });
  system.onAny((event) => events.push(event));
  return system;
}

/** IOPF and SVA on each device, one process of 64 pages bound to all of them at PASID 1. */
function bindAll(system: System, devices: string[]): void {
  for (const device of devices) {
    system.enableFeature(device, 'IOPF');
    system.enableFeature(device, 'SVA');
  }
  system.createProcess({ id: 'app' });
  system.mmap('app', { address: user(0), size: 64 * 4096, prot: 'rw' });
  for (const device of devices) system.svaBind(device, 'app');
}

/**
 * Real events: every preset's workload, then scenes for the kinds no preset emits once it is built
 * (set-up and tear-down, queue overflow, credit waits, evictions, stray responses, reports, resets).
 */
function realEvents(): EmulatorEvent[] {
  const events: EmulatorEvent[] = [];
  for (const preset of PRESETS) {
    const system = buildSystem(preset.config);
    system.onAny((event) => events.push(event));
    if (preset.workload) system.runWorkload(preset.workload);
    system.runUntilIdle(SCENE_EVENTS);
  }

  // SVA over PRI with a 4-entry page request queue: overflow and discarded partials; then tear-down.
  const sva = recorded(events);
  sva.addIommu({
    id: 'vtd0',
    family: 'vtd',
    profile: 'proposal',
    capabilities: { pageRequestQueueDepth: 4 },
  });
  for (const id of ['a', 'b', 'c'])
    sva.addDevice({ id, iommu: 'vtd0', ats: true, pri: { capacity: 2 }, pasidBits: 8 });
  bindAll(sva, ['a', 'b', 'c']);
  for (const [i, device] of ['a', 'b', 'c'].entries())
    sva.dma({ device, pasid: 1, address: user(i * 8 * 4096), length: 4 * 4096, access: 'read' });
  sva.runUntilIdle(SCENE_EVENTS);
  sva.mprotect('app', user(0), 4096, 'r');
  sva.reclaim('app', user(4096), 4096);
  sva.munmap('app', user(32 * 4096), 4096);
  sva.dma({ device: 'c', pasid: 1, address: user(40 * 4096), length: 8 * 4096, access: 'read' });
  sva.step();
  sva.resetDevice('c');
  sva.runUntilIdle(SCENE_EVENTS);
  for (const device of ['a', 'b', 'c']) sva.svaUnbind(device, 'app');
  sva.runUntilIdle(SCENE_EVENTS);
  sva.disableFeature('b', 'SVA');
  sva.disableFeature('b', 'IOPF');
  sva.exitProcess('app');

  // A DMA domain on SMMUv3: a fault nobody can resolve, reported to the device's handler; then tear-down.
  const dma = recorded(events);
  dma.addIommu({ id: 'smmu0', family: 'smmuv3', profile: 'seed-5.13' });
  dma.addDevice({ id: 'acc', iommu: 'smmu0', kind: 'platform' });
  dma.registerFaultHandler('acc', { type: 'external' });
  dma.createDomain({ id: 'd', iommu: 'smmu0', type: 'dma' });
  dma.map('d', { iova: '0x10000', size: 0x3000, phys: '0x80000', prot: 'rw' });
  dma.attach('acc', 'd');
  dma.dma({ device: 'acc', address: '0x10000', length: 0x2000, access: 'read' });
  dma.dma({ device: 'acc', address: '0x0', length: 8, access: 'read' });
  dma.runUntilIdle(SCENE_EVENTS);
  dma.invalidateIotlb('smmu0');
  dma.unmap('d', '0x10000', 0x1000);
  dma.unregisterFaultHandler('acc');
  dma.detach('acc');
  dma.destroyDomain('d');

  // Page requests in a mainline DMA domain have no handler: each is answered INVALID, and the answers
  // after the first name a PRG index no longer outstanding.
  const stray = recorded(events);
  stray.addIommu({ id: 'vtd0', family: 'vtd', profile: 'mainline' });
  stray.addDevice({ id: 'nic0', iommu: 'vtd0', ats: true, pri: { capacity: 32 }, pasidBits: 20 });
  stray.createDomain({ id: 'd', iommu: 'vtd0', type: 'dma' });
  stray.createProcess({ id: 'app' });
  stray.svaBind('nic0', 'app');
  stray.attach('nic0', 'd');
  stray.dma({ device: 'nic0', address: '0x0', length: 3 * 4096, access: 'read' });
  stray.runUntilIdle(SCENE_EVENTS);
  stray.invalidateAtc('nic0');

  // On-demand mapping under a 2-page pin budget with a PRI credit of 2: evictions and credit waits.
  const map = recorded(events);
  map.addIommu({ id: 'vtd0', family: 'vtd', profile: 'proposal' });
  map.addDevice({ id: 'vf0', iommu: 'vtd0', ats: true, pri: { capacity: 2 } });
  map.enableFeature('vf0', 'IOPF');
  map.createDomain({ id: 'vm', iommu: 'vtd0', type: 'dma' });
  map.registerFaultHandler('vf0', {
    type: 'map',
    region: { iova: '0x0', size: 16 * 4096 },
    pinBudgetPages: 2,
  });
  map.attach('vf0', 'vm');
  for (let i = 0; i < 3; i++)
    map.dma({ device: 'vf0', address: `0x${(i * 0x2000).toString(16)}`, length: 2 * 4096, access: 'write' });
  map.runUntilIdle(SCENE_EVENTS);

  // A VMM on iommufd: a group read from the fault object and answered.
  const vmm = recorded(events);
  vmm.addIommu({ id: 'vtd0', family: 'vtd', profile: 'mainline' });
  vmm.addDevice({ id: 'vf0', iommu: 'vtd0', ats: true, pri: { capacity: 8 }, pasidBits: 20 });
  const fd = vmm.iommufd;
  const { devId } = fd.bind('vf0');
  const { ioasId } = fd.ioasAlloc();
  const { faultId } = fd.faultQueueAlloc();
  const { hwptId } = fd.hwptAlloc({ devId, ptId: ioasId, flags: IOMMU_HWPT_ALLOC.FAULT_ID_VALID, faultId });
  fd.attach({ devId, ptId: hwptId });
  vmm.dma({ device: 'vf0', address: '0x0', length: 2 * 4096, access: 'read' });
  vmm.runUntilIdle(SCENE_EVENTS);
  const queue = fd.faultQueue(faultId);
  const [first] = decodePgfaults(queue.read(80));
  queue.write(hwptPageResponse({ cookie: first!.cookie, code: 'INVALID' }));
  vmm.runUntilIdle(SCENE_EVENTS);

  // A guest's device behind a vIOMMU on SMMUv3: its stage-1 fault forwarded to the vEVENTQ.
  const guest = recorded(events);
  guest.addIommu({ id: 'smmu0', family: 'smmuv3', profile: 'mainline' });
  guest.addDevice({ id: 'vf1', iommu: 'smmu0', ats: true, pasidBits: 20 });
  const gfd = guest.iommufd;
  const vf1 = gfd.bind('vf1').devId;
  const parent = gfd.hwptAlloc({
    devId: vf1,
    ptId: gfd.ioasAlloc().ioasId,
    flags: IOMMU_HWPT_ALLOC.NEST_PARENT,
  });
  const { viommuId } = gfd.viommuAlloc({
    devId: vf1,
    hwptId: parent.hwptId,
    type: IOMMU_VIOMMU_TYPE.ARM_SMMUV3,
  });
  gfd.vdeviceAlloc({ viommuId, devId: vf1, virtId: 7 });
  gfd.veventqAlloc({ viommuId, type: IOMMU_VEVENTQ_TYPE.ARM_SMMUV3, depth: 1 });
  gfd.attach({ devId: vf1, ptId: gfd.hwptAlloc({ devId: vf1, ptId: viommuId }).hwptId });
  for (const address of ['0x1000', '0x2000'])
    guest.dma({ device: 'vf1', address, length: 8, access: 'read' });
  guest.runUntilIdle(SCENE_EVENTS);
  return events;
}

/** Encodes and decodes in the hub's batch size, one encoder and one decoder for all batches (as a stream). */
function roundTrip(events: readonly EmulatorEvent[]): WireEvent[] {
  const encoder = new EventTupleEncoder();
  const decoder = new EventTupleDecoder();
  const decoded: WireEvent[] = [];
  for (let start = 0; start < events.length; start += DEFAULT_STREAM_LIMITS.batchEvents) {
    const text = encoder.encode(events.slice(start, start + DEFAULT_STREAM_LIMITS.batchEvents), 0);
    decoded.push(...decoder.decode(JSON.parse(text) as EventTuplesMessage));
  }
  return decoded;
}

/** Each event as the `json` encoding writes it: key order and values, nulls and nested lists included. */
const asJson = (events: readonly object[]) => events.map((event) => JSON.stringify(event));

describe('the tuples encoding gives back every event as the json encoding does', () => {
  const events = realEvents();

  it('reaches every kind of event but the ones named', () => {
    const reached = new Set<string>(events.map((event) => event.kind));
    expect(EVENT_KINDS.filter((kind) => !reached.has(kind) && !NOT_REACHED.has(kind))).toEqual([]);
    // A kind named as not reached that a scene does reach is checked like the others: off the list.
    expect([...NOT_REACHED].filter((kind) => reached.has(kind))).toEqual([]);
  });

  it('every event of every kind decodes to the same object, keys in the same order', () => {
    const decoded = roundTrip(events);
    expect(asJson(decoded)).toEqual(asJson(events));
    // The same objects as JSON.parse would make (own keys only, plain prototypes).
    expect(decoded.slice(0, 5_000)).toStrictEqual(JSON.parse(JSON.stringify(events.slice(0, 5_000))));
  });

  it('is smaller than the json encoding', () => {
    const size = (batch: typeof events) => ({
      tuples: new EventTupleEncoder().encode(batch, 0).length,
      json: JSON.stringify({ type: 'events', events: batch, dropped: 0 }).length,
    });
    // Without the byte-exact records events carry, rows are well under the JSON of the same events.
    const bare = size(
      events.slice(0, DEFAULT_STREAM_LIMITS.batchEvents).map((event) => {
        const { records: _, ...rest } = event as typeof event & { records?: unknown };
        return rest as typeof event;
      }),
    );
    expect(bare.tuples).toBeLessThan(bare.json * 0.6);
    // A record's fields are a nested object the tuples encoding writes as JSON, keys and all (not
    // flattened yet): batches with records are smaller than JSON, by less.
    const withRecords = size(events.slice(0, DEFAULT_STREAM_LIMITS.batchEvents));
    expect(withRecords.tuples).toBeLessThan(withRecords.json);
  });

  it('a layout carries one shape: events of one kind with keys in another order, or other keys, get their own', () => {
    const first = events.find((event) => event.kind === 'dma.completed')!;
    const { seq, ...rest } = first;
    const reordered = { seq, ...rest } as EmulatorEvent;
    const extended = { ...first, extra: [1, { deep: 'x', none: null }] } as EmulatorEvent;
    const batch = [first, reordered, extended, first];
    const message = JSON.parse(new EventTupleEncoder().encode(batch, 0)) as EventTuplesMessage;
    expect(message.layouts.map((layout) => layout.kind)).toEqual(Array(3).fill('dma.completed'));
    expect(message.events.map((row) => row[0])).toEqual([0, 1, 2, 0]);
    expect(asJson(new EventTupleDecoder().decode(message))).toEqual(asJson(batch));
  });

  describe('where code cannot be compiled (a Content-Security-Policy without unsafe-eval)', () => {
    afterEach(() => vi.unstubAllGlobals());

    it('builds each event key by key, to the same objects', () => {
      const message = JSON.parse(
        new EventTupleEncoder().encode(events.slice(0, 3_000), 0),
      ) as EventTuplesMessage;
      vi.stubGlobal('Function', () => {
        throw new EvalError('Refused to evaluate a string as JavaScript');
      });
      const decoded = new EventTupleDecoder().decode(message);
      vi.unstubAllGlobals();
      expect(asJson(decoded)).toEqual(asJson(events.slice(0, 3_000)));
    });
  });
});

describe('a batch the format does not allow is a ProtocolError (EPROTO)', () => {
  const layout = { kind: 'dma.retried', keys: ['kind', 'transaction', 'seq'] };
  const refused: [string, unknown, RegExp][] = [
    ['a row of an unknown layout', { layouts: [layout], events: [[1, 7, 0]] }, /event 0 .* 1 layouts/],
    ['a row too short for its layout', { layouts: [layout], events: [[0, 7]] }, /event 0 /],
    ['a row that is not a list', { layouts: [layout], events: [{ 0: 0 }] }, /event 0 /],
    ['a layout without kind', { layouts: [{ kind: 'dma.retried', keys: ['seq'] }], events: [] }, /no "kind"/],
    ['a key twice', { layouts: [{ ...layout, keys: ['kind', 'seq', 'seq'] }], events: [] }, /"seq" twice/],
    [
      '__proto__ as a key',
      { layouts: [{ ...layout, keys: ['kind', '__proto__'] }], events: [] },
      /__proto__/,
    ],
    ['a layout that is not {kind, keys}', { layouts: [null], events: [] }, /not \{kind, keys\}/],
    ['no list of events', { layouts: [] }, /no layouts or no events/],
  ];
  it.each(refused)('%s', (_, body, message) => {
    const decode = () =>
      new EventTupleDecoder().decode({ type: 'event-tuples', dropped: 0, ...(body as object) } as never);
    expect(decode).toThrow(ProtocolError);
    expect(decode).toThrow(message);
    try {
      decode();
    } catch (error) {
      expect((error as ProtocolError).code).toBe('EPROTO');
    }
  });
});
