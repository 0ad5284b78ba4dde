/**
 * One fault, one causal record (issue 11): every mechanism's flow ends in an anatomy record whose hops
 * are the latency model's costs and sum exactly to the end-to-end latency; events name their flow; flows
 * know their causes and the flow whose page they bring back; ids are deterministic.
 */
import { describe, expect, it } from 'vitest';
import { buildSystem } from '../config/build-system';
import { DEFAULT_LATENCY as L } from '../latency/latency-model';
import { presetById, startPreset } from '../presets/presets';
import type { EventOf } from '../sim/events';
import { System } from '../system';
import { PRI_DEVICE, USER_BASE, bindProcess, capture, stepUntil, systemWith } from '../testing/fixtures';
import type { FlowRecord, HopName } from './fault-flow';

type Flow = EventOf<'flow.ended'>;

const hopsOf = (flow: FlowRecord) => flow.hops.map((h) => h.hop);
const ns = (flow: FlowRecord, hop: HopName) => flow.hops.find((h) => h.hop === hop)?.ns;

/** Every record: hops consecutive from the start, summing to the latency, none negative. */
function expectWellFormed(flows: readonly FlowRecord[]): void {
  expect(flows.length).toBeGreaterThan(0);
  for (const flow of flows) {
    let at = flow.startNs;
    for (const hop of flow.hops) {
      expect(hop.startNs).toBe(at);
      expect(hop.ns).toBeGreaterThanOrEqual(0);
      at += hop.ns;
    }
    expect(at).toBe(flow.endNs);
    expect(flow.hops.reduce((sum, hop) => sum + hop.ns, 0)).toBe(flow.latencyNs);
  }
}

/** The retranslate hop is the cost of the translation the resumed DMA page paid (its dma.page event). */
function expectRetranslateIsThePageCost(flow: FlowRecord, pages: readonly EventOf<'dma.page'>[]): void {
  const page = pages.find(
    (p) => p.transaction === flow.transaction && p.timeNs === flow.endNs - ns(flow, 'retranslate')!,
  );
  expect(page, `dma.page of flow ${flow.flow}`).toBeDefined();
  expect(ns(flow, 'retranslate')).toBe(page!.costNs);
}

function sva(capacity = 32) {
  const s = systemWith('vtd', 'mainline', [{ id: 'nic0', ...PRI_DEVICE, pri: { capacity } }]);
  const { pasid } = bindProcess(s, 'nic0', 64 * 4096);
  return { s, pasid };
}

describe('fault flow anatomy (issue 11)', () => {
  it('PRI: request → IOMMU queue → driver → group → handler (handle_mm_fault) → response → device → retried → resumed', () => {
    const { s, pasid } = sva();
    const flows = capture(s, 'flow.ended');
    const pages = capture(s, 'dma.page');
    const requests = capture(s, 'pri.page-request');
    const groups = capture(s, 'fault.group');
    const responses = capture(s, 'fault.response');
    const completed = capture(s, 'dma.completed');
    const tx = s.dma({ device: 'nic0', pasid, address: USER_BASE, length: 2 * 4096, access: 'read' });
    s.runUntilIdle();
    expect(tx.state).toBe('completed');
    expectWellFormed(flows);
    const [partial, last] = [...flows].sort((a, b) => a.flow - b.flow);
    expect(hopsOf(partial!)).toEqual([
      'toIommu',
      'queueWait',
      'groupWait',
      'dispatch',
      'handler',
      'responseWrite',
      'toDevice',
      'retranslate',
    ]);
    // The last request completes its group itself: no groupWait hop, not a zero one.
    expect(hopsOf(last!)).toEqual([
      'toIommu',
      'queueWait',
      'dispatch',
      'handler',
      'responseWrite',
      'toDevice',
      'retranslate',
    ]);
    for (const flow of [partial!, last!]) {
      expect(flow).toMatchObject({
        mechanism: 'pri',
        device: 'nic0',
        pasid,
        code: 'SUCCESS',
        cause: 'handler',
        handler: 'sva',
        outcome: 'resumed',
        stage: 1,
      });
      expect(ns(flow, 'toIommu')).toBe(L.priRoundTripNs / 2);
      expect(ns(flow, 'dispatch')).toBe(L.iopfDispatchNs);
      // The SVA handler's cost: its fixed part plus handle_mm_fault (a minor fault) for each page of the group.
      expect(ns(flow, 'handler')).toBe(L.handlerNs + 2 * L.minorFaultNs);
      expect(flow.handlerCosts).toEqual({
        fixedNs: L.handlerNs,
        mmFaultNs: 2 * L.minorFaultNs,
        mapNs: 0,
        evictionNs: 0,
        guestNs: 0,
      });
      expect(ns(flow, 'responseWrite')).toBe(L.responseNs);
      expect(ns(flow, 'toDevice')).toBe(L.priRoundTripNs / 2);
    }
    // Entry i of the driver's round takes effect i × queueServiceNs after the first.
    expect(ns(partial!, 'queueWait')).toBe(L.queueServiceNs);
    expect(ns(last!, 'queueWait')).toBe(2 * L.queueServiceNs);
    expect(ns(partial!, 'groupWait')).toBe(L.queueServiceNs);
    expectRetranslateIsThePageCost(partial!, pages);
    // Every event of the fault's life names its flow.
    expect(requests.map((r) => r.flow)).toEqual([partial!.flow, last!.flow]);
    expect(groups[0]!.flows).toEqual([partial!.flow, last!.flow]);
    expect(responses[0]!).toMatchObject({ group: groups[0]!.group, flows: [partial!.flow, last!.flow] });
    expect(partial!.group).toBe(groups[0]!.group);
    expect(completed[0]!.flows).toEqual([partial!.flow, last!.flow]);
    expect(tx.flows).toEqual([partial!.flow, last!.flow]);
  });

  it('credit wait is a hop: a burst with no PRI credit waits, and the wait is the time until credit came back', () => {
    const { s, pasid } = sva(2);
    const flows = capture(s, 'flow.ended');
    const waits = capture(s, 'pri.credit-wait');
    const txs = [0, 1, 2].map((i) =>
      s.dma({ device: 'nic0', pasid, address: USER_BASE + i * 0x10000, length: 2 * 4096, access: 'read' }),
    );
    s.runUntilIdle();
    expect(txs.every((tx) => tx.state === 'completed')).toBe(true);
    expectWellFormed(flows);
    const waited = flows.filter((flow) => ns(flow, 'creditWait') !== undefined);
    expect(waited.length).toBeGreaterThan(0);
    expect(new Set(waits.map((w) => w.transaction))).toEqual(new Set(waited.map((flow) => flow.transaction)));
    for (const flow of waited) {
      expect(hopsOf(flow)[0]).toBe('creditWait');
      expect(ns(flow, 'creditWait')).toBeGreaterThan(0);
    }
  });

  it('SMMUv3 stall: event queue → driver → group → handler → CMD_RESUME → retried', () => {
    const s = systemWith('smmuv3', 'mainline', [{ id: 'acc', kind: 'platform', stall: true, pasidBits: 8 }]);
    const { pasid } = bindProcess(s, 'acc');
    const flows = capture(s, 'flow.ended');
    const pages = capture(s, 'dma.page');
    const stalled = capture(s, 'stall.stalled');
    const resumes = capture(s, 'stall.resume');
    s.dma({ device: 'acc', pasid, address: USER_BASE, length: 2 * 4096, access: 'write' });
    s.runUntilIdle();
    expectWellFormed(flows);
    expect(flows).toHaveLength(2);
    for (const flow of flows) {
      expect(flow).toMatchObject({ mechanism: 'stall', code: 'RETRY', outcome: 'resumed' });
      expect(hopsOf(flow)).toEqual([
        'queueWait',
        'dispatch',
        'handler',
        'responseWrite',
        'resume',
        'retranslate',
      ]);
      expect(ns(flow, 'resume')).toBe(L.stallResumeNs);
      expect(ns(flow, 'handler')).toBe(L.handlerNs + L.minorFaultNs);
      expectRetranslateIsThePageCost(flow, pages);
    }
    expect(stalled.map((e) => e.flow)).toEqual(flows.map((f) => f.flow));
    expect(resumes.map((e) => e.flow)).toEqual(flows.map((f) => f.flow));
  });

  it('a stall the handler refuses ends failed at CMD_RESUME ABORT', () => {
    const s = systemWith('smmuv3', 'mainline', [{ id: 'acc', kind: 'platform', stall: true, pasidBits: 8 }]);
    const { pasid } = bindProcess(s, 'acc', 0x1000);
    const flows = capture(s, 'flow.ended');
    s.dma({ device: 'acc', pasid, address: USER_BASE + 0x5000, length: 8, access: 'read' }); // outside the VMA
    s.runUntilIdle();
    expectWellFormed(flows);
    expect(flows[0]).toMatchObject({ mechanism: 'stall', code: 'ABORT', outcome: 'failed' });
    expect(hopsOf(flows[0]!)).toEqual(['queueWait', 'dispatch', 'handler', 'responseWrite', 'resume']);
  });

  it('nested: the stage-1 flow (guest) is the cause of the stage-2 flow (host MAP) the retry hits', () => {
    const s = buildSystem(presetById('nested-guest-sva')!.config);
    const flows = capture(s, 'flow.ended');
    const tx = s.dma({ device: 'vf0', address: '0x7f0000000000', length: 8, access: 'write' });
    s.runUntilIdle();
    expect(tx.state).toBe('completed');
    expectWellFormed(flows);
    const [stage1, stage2] = flows;
    expect(stage1).toMatchObject({
      stage: 1,
      category: 'BIND',
      handler: 'guest',
      outcome: 'refaulted',
      causes: [],
    });
    expect(ns(stage1!, 'handler')).toBe(L.handlerNs + L.guestRoundTripNs + L.mapFaultNs);
    expect(stage1!.handlerCosts).toMatchObject({ guestNs: L.guestRoundTripNs, mapNs: L.mapFaultNs });
    expect(stage2).toMatchObject({
      stage: 2,
      category: 'MAP',
      handler: 'map',
      outcome: 'resumed',
      causes: [stage1!.flow],
    });
    expect(ns(stage2!, 'handler')).toBe(L.handlerNs + L.mapFaultNs);
    // The refault costs nothing more in the model: the retranslate of a failed translation is 0, and the
    // stage-2 flow starts where the stage-1 flow ended.
    expect(ns(stage1!, 'retranslate')).toBe(0);
    expect(stage2!.startNs).toBe(stage1!.endNs);
    expect(tx.flows).toEqual([stage1!.flow, stage2!.flow]);
  });

  it('MAP with eviction: the eviction is in the handler hop, and the fault that brings the page back replaces the flow that first mapped it', () => {
    const s = systemWith('vtd', 'proposal', [{ id: 'vf0', ats: true, pri: { capacity: 32 } }]);
    s.enableFeature('vf0', 'IOPF');
    s.createDomain({ id: 'vm', iommu: 'iommu0', type: 'dma' });
    s.registerFaultHandler('vf0', {
      type: 'map',
      region: { iova: '0x0', size: 16 * 4096 },
      pinBudgetPages: 1,
    });
    s.attach('vf0', 'vm');
    const flows = capture(s, 'flow.ended');
    const evicted = capture(s, 'handler.evicted');
    for (const address of ['0x0', '0x1000', '0x0']) {
      s.dma({ device: 'vf0', address, length: 8, access: 'read' });
      s.runUntilIdle();
    }
    expectWellFormed(flows);
    const [first, second, third] = flows;
    expect(ns(first!, 'handler')).toBe(L.handlerNs + L.mapFaultNs);
    expect(second!.handlerCosts).toMatchObject({ mapNs: L.mapFaultNs, evictionNs: L.evictionNs });
    expect(ns(second!, 'handler')).toBe(L.handlerNs + L.mapFaultNs + L.evictionNs);
    expect(evicted[0]).toMatchObject({ flow: first!.flow, by: second!.flow, iova: '0x0' });
    expect(first!.replaces).toBeNull();
    expect(third!.replaces).toEqual({ flow: first!.flow, because: 'evicted' });
  });

  it('munmap: a later fault on the same page replaces the flow that resolved it, because unmapped', () => {
    const { s, pasid } = sva();
    const flows = capture(s, 'flow.ended');
    s.dma({ device: 'nic0', pasid, address: USER_BASE, length: 8, access: 'read' });
    s.runUntilIdle();
    s.munmap('app', `0x${USER_BASE.toString(16)}`, 64 * 4096);
    s.mmap('app', { address: `0x${USER_BASE.toString(16)}`, size: 64 * 4096, prot: 'rw' });
    s.dma({ device: 'nic0', pasid, address: USER_BASE, length: 8, access: 'read' });
    s.runUntilIdle();
    expect(flows).toHaveLength(2);
    expect(flows[1]!.replaces).toEqual({ flow: flows[0]!.flow, because: 'unmapped' });
  });

  it('reclaim: the major fault that reads the page back replaces the flow that first brought it in', () => {
    const { s, pasid } = sva();
    const flows = capture(s, 'flow.ended');
    s.dma({ device: 'nic0', pasid, address: USER_BASE, length: 8, access: 'read' });
    s.runUntilIdle();
    expect(s.reclaim('app', `0x${USER_BASE.toString(16)}`, 4096)).toBe(1);
    s.dma({ device: 'nic0', pasid, address: USER_BASE, length: 8, access: 'read' });
    s.runUntilIdle();
    expect(flows[1]!.replaces).toEqual({ flow: flows[0]!.flow, because: 'reclaimed' });
    expect(flows[1]!.handlerCosts!.mmFaultNs).toBe(L.majorFaultNs);
  });

  it('timeout: an outside handler that never answers; the deadline is a hop of its own', () => {
    const s = systemWith('vtd', 'proposal', [{ id: 'nic0', ats: true, pri: { capacity: 16 } }]);
    s.enableFeature('nic0', 'IOPF');
    s.registerFaultHandler('nic0', { type: 'external', timeoutNs: 50_000 });
    s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
    s.attach('nic0', 'd');
    const flows = capture(s, 'flow.ended');
    const awaiting = capture(s, 'fault.awaiting-client');
    const tx = s.dma({ device: 'nic0', address: '0x0', length: 8, access: 'read' });
    s.runUntilIdle();
    expectWellFormed(flows);
    expect(flows[0]).toMatchObject({
      cause: 'timeout',
      handler: 'external',
      outcome: tx.state === 'completed' ? 'resumed' : 'failed',
    });
    expect(hopsOf(flows[0]!)).toEqual([
      'toIommu',
      'queueWait',
      'dispatch',
      'timeout',
      'responseWrite',
      'toDevice',
    ]);
    expect(ns(flows[0]!, 'timeout')).toBe(50_000);
    expect(awaiting[0]!.flows).toEqual([flows[0]!.flow]);
  });

  it('an answered outside handler: the client wait is the hop', () => {
    const s = systemWith('vtd', 'proposal', [{ id: 'nic0', ats: true, pri: { capacity: 16 } }]);
    s.enableFeature('nic0', 'IOPF');
    s.registerFaultHandler('nic0', { type: 'external' });
    s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
    s.attach('nic0', 'd');
    const flows = capture(s, 'flow.ended');
    s.dma({ device: 'nic0', address: '0x0', length: 8, access: 'read' });
    expect(stepUntil(s, () => s.pendingFaults().length === 1)).toBe(true);
    const askedAt = s.nowNs;
    s.runUntil(askedAt + 7_000);
    s.map('d', { iova: '0x0', size: 0x1000, prot: 'rw' });
    s.respondToFault(1, 'SUCCESS');
    s.runUntilIdle();
    expectWellFormed(flows);
    expect(hopsOf(flows[0]!)).toEqual([
      'toIommu',
      'queueWait',
      'dispatch',
      'clientWait',
      'responseWrite',
      'toDevice',
      'retranslate',
    ]);
    expect(ns(flows[0]!, 'clientWait')).toBe(7_000);
    expect(flows[0]).toMatchObject({ outcome: 'resumed', code: 'SUCCESS' });
  });

  it('queue overflow: a dropped last request gets the automatic Success, and the retry refaults into a flow caused by it', () => {
    const s = new System({ seed: 1, memoryFrames: 4096 });
    s.addIommu({
      id: 'iommu0',
      family: 'vtd',
      profile: 'proposal',
      capabilities: { pageRequestQueueDepth: 4 },
    });
    for (const id of ['a', 'b', 'c']) {
      s.addDevice({ id, iommu: 'iommu0', ats: true, pri: { capacity: 8 }, pasidBits: 8 });
      s.enableFeature(id, 'IOPF');
      s.enableFeature(id, 'SVA');
    }
    s.createProcess({ id: 'app' });
    s.mmap('app', { address: `0x${USER_BASE.toString(16)}`, size: 64 * 4096, prot: 'rw' });
    for (const id of ['a', 'b', 'c']) s.svaBind(id, 'app');
    const flows = capture(s, 'flow.ended');
    const overflows = capture(s, 'iommu.queue-overflow');
    ['a', 'b', 'c'].forEach((device, i) =>
      s.dma({ device, pasid: 1, address: USER_BASE + i * 8 * 4096, length: 4 * 4096, access: 'read' }),
    );
    s.runUntilIdle();
    expectWellFormed(flows);
    const retried = flows.filter((flow) => ns(flow, 'overflowResponse') !== undefined);
    expect(retried.length).toBe(overflows.filter((o) => o.lastRequest).length);
    for (const flow of retried) {
      expect(flow).toMatchObject({ code: 'SUCCESS', cause: 'queue-overflow' });
      expect(hopsOf(flow).slice(0, 2)).toEqual(['toIommu', 'overflowResponse']);
      expect(ns(flow, 'overflowResponse')).toBe(L.priRoundTripNs / 2);
    }
    const byId = new Map(flows.map((flow) => [flow.flow, flow]));
    const refaulted = retried.filter((flow) => flow.outcome === 'refaulted');
    expect(refaulted.length).toBeGreaterThan(0);
    for (const flow of refaulted) expect(flows.some((later) => later.causes.includes(flow.flow))).toBe(true);
    // Partials dropped by the full queue, or discarded after it, end without an answer.
    const unanswered = flows.filter((flow) => flow.outcome === 'dropped' || flow.outcome === 'discarded');
    expect(unanswered.length).toBeGreaterThan(0);
    expect(overflows.every((o) => o.flow === null || byId.has(o.flow))).toBe(true);
  });

  it('unrecoverable: the fault record waits in the fault queue until the driver reads it; the DMA failed at once', () => {
    const s = systemWith('vtd', 'mainline', [{ id: 'dev0' }]);
    s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
    s.attach('dev0', 'd');
    const flows = capture(s, 'flow.ended');
    const records = capture(s, 'fault.unrecoverable');
    const reported = capture(s, 'fault.reported');
    const tx = s.dma({ device: 'dev0', address: '0x5000', length: 8, access: 'write' });
    s.runUntilIdle();
    expect(tx.error).toBe('unrecoverable');
    expectWellFormed(flows);
    expect(flows[0]).toMatchObject({
      mechanism: 'unrecoverable',
      outcome: 'recorded',
      code: records[0]!.codeName,
      startNs: tx.finishedNs,
    });
    expect(hopsOf(flows[0]!)).toEqual(['queueWait']);
    expect(ns(flows[0]!, 'queueWait')).toBe(L.queueServiceNs);
    expect(records[0]!.flow).toBe(flows[0]!.flow);
    expect(reported[0]!.flow).toBe(flows[0]!.flow);
  });

  it('self-faulting device: its driver, then handle_mm_fault, then the retried translation', () => {
    const run = startPreset(presetById('sva-self-faulting')!);
    const flows = capture(run.system, 'flow.ended');
    const handled = capture(run.system, 'fault.device-handled');
    run.system.runUntilIdle();
    expectWellFormed(flows);
    for (const flow of flows.slice(0, 50)) {
      expect(hopsOf(flow)).toEqual(['deviceDriver', 'mmFault', 'retranslate']);
      expect(ns(flow, 'deviceDriver')).toBe(L.deviceFaultNs);
      expect([L.minorFaultNs, L.majorFaultNs]).toContain(ns(flow, 'mmFault'));
    }
    // Handled in the order the faults happened; flows end when their DMA resumes, in another order.
    const ids = (list: { flow: number }[]) => list.map((e) => e.flow).sort((a, b) => a - b);
    expect(ids(handled)).toEqual(ids(flows));
  });

  it('every preset: each flow well formed, and each flow its own end (one record per flow id)', () => {
    for (const id of [
      'sva-pri-vtd',
      'passthrough-map',
      'nested-guest-sva',
      'smmu-stall-sva',
      'no-map-driver',
      'sva-mainline',
    ]) {
      const run = startPreset(presetById(id)!);
      const flows: Flow[] = capture(run.system, 'flow.ended');
      run.system.runUntilIdle();
      expectWellFormed(flows);
      expect(new Set(flows.map((f) => f.flow)).size).toBe(flows.length);
      // Fault latency is the flows', end to end.
      const recoverable = flows.filter((f) => f.mechanism !== 'unrecoverable');
      expect(run.system.metrics().system.faults.latencyNs.count).toBe(recoverable.length);
    }
  });

  it('ids are deterministic: the same config and seed give the same flows, record for record', () => {
    const records = () => {
      const run = startPreset(presetById('nested-guest-sva')!);
      const flows = capture(run.system, 'flow.ended');
      run.system.runUntilIdle();
      return JSON.stringify(flows);
    };
    expect(records()).toBe(records());
  });
});
