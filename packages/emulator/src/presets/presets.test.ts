import { describe, expect, it } from 'vitest';
import { PRESETS, presetById, startPreset } from './presets';

function runPreset(id: string) {
  const run = startPreset(presetById(id)!);
  run.system.runUntilIdle();
  expect(run.workload.finished).toBe(true);
  return { ...run, metrics: run.system.metrics() };
}

describe('scenario presets of the seed thread', () => {
  it('has the eight scenarios (a)–(h), each with a config and a workload', () => {
    expect(PRESETS.map((preset) => preset.title.slice(0, 3))).toEqual([
      '(a)',
      '(b)',
      '(c)',
      '(c)',
      '(d)',
      '(e)',
      '(f)',
      '(g)',
      '(g)',
      '(h)',
    ]);
    for (const preset of PRESETS) {
      if (preset.compareWith) expect(presetById(preset.compareWith)?.compareWith).toBe(preset.id);
    }
  });

  it('(a) SVA over PRI on VT-d: first touches become page request groups resolved by the SVA handler', () => {
    const { metrics } = runPreset('sva-pri-vtd');
    expect(metrics.system.transactions.completed).toBe(2000);
    expect(metrics.system.faults.groups).toBeGreaterThan(100);
    expect(metrics.system.faults.byCategory.BIND).toBe(metrics.system.faults.pageRequests);
    expect(metrics.system.faults.outcomes).toEqual({ 'handler:SUCCESS': metrics.system.faults.groups });
  });

  it('(b) a self-faulting device resolves its faults without PRI', () => {
    const { metrics } = runPreset('sva-self-faulting');
    expect(metrics.system.faults.pageRequests).toBe(0);
    expect(metrics.system.faults.deviceHandled.minor).toBeGreaterThan(100);
    expect(metrics.system.transactions.completed).toBe(2000);
  });

  it('(c) pinning vs on-demand mapping: same work, faults and higher latency only without pinning', () => {
    const pinned = runPreset('passthrough-pinned').metrics.system;
    const onDemand = runPreset('passthrough-map').metrics.system;
    expect(pinned.transactions.completed).toBe(onDemand.transactions.completed);
    expect(pinned.faults.pageRequests).toBe(0);
    expect(onDemand.faults.byCategory.MAP).toBeGreaterThan(100);
    expect(onDemand.dmaLatencyNs.p99).toBeGreaterThan(pinned.dmaLatencyNs.p99);
  });

  it('(d) nested guest SVA: both categories, stage 1 to the guest and stage 2 to the host', () => {
    const { metrics } = runPreset('nested-guest-sva');
    expect(metrics.system.faults.byStage.stage1).toBeGreaterThan(0);
    expect(metrics.system.faults.byStage.stage2).toBeGreaterThan(0);
    expect(metrics.system.faults.byCategory).toMatchObject({
      BIND: metrics.system.faults.byStage.stage1,
      MAP: metrics.system.faults.byStage.stage2,
    });
    expect(metrics.system.transactions.faulted).toBe(0);
  });

  it('(e) SMMUv3 stall with SVA: faults are stalls, resumed with RETRY', () => {
    const { metrics } = runPreset('smmu-stall-sva');
    expect(metrics.system.faults.stalls).toBeGreaterThan(100);
    expect(metrics.system.faults.resumes.RETRY).toBe(metrics.system.faults.stalls);
    expect(metrics.system.faults.pageRequests).toBe(0);
  });

  it('(f) a driver without MAP refuses the MAP handler, and the DMA-domain faults find no handler', () => {
    const { refusal, metrics } = runPreset('no-map-driver');
    expect(refusal).toMatchObject({ code: 'EOPNOTSUPP', reason: 'category-unsupported' });
    expect(metrics.system.faults.outcomes['no-handler:INVALID']).toBeGreaterThan(0);
    expect(metrics.system.transactions.faulted).toBeGreaterThan(0);
  });

  it('(g) seed-5.13 vs mainline: the same SVA traffic, explicit feature calls vs enable on attach, SMMUv3 PRI denied', () => {
    const seed = runPreset('sva-seed-5.13');
    const mainline = runPreset('sva-mainline');
    expect(seed.system.describe().devices[0]!.features).toEqual(['IOPF', 'SVA']);
    expect(mainline.system.describe().devices[0]!.features).toEqual([]);
    expect(mainline.system.describe().devices[0]!.iopf).toMatchObject({ enabled: true, users: 1 });
    // The VT-d stream behaves the same under both.
    expect(mainline.metrics.devices.nic0!.faults.groups).toBe(seed.metrics.devices.nic0!.faults.groups);
    // The SMMUv3 PRI device: denied page requests end in errors under mainline.
    expect(mainline.metrics.devices.nic1!.faults.outcomes['pri-denied:INVALID']).toBeGreaterThan(0);
    expect(mainline.metrics.devices.nic1!.transactions.faulted).toBeGreaterThan(0);
  });

  it('(h) the VMM as the fault handler: MAP faults wait for an external client and time out unanswered', () => {
    const preset = presetById('vmm-external')!;
    expect(preset.config.handlers).toEqual([
      { device: 'vf0', handler: { type: 'external', categories: ['MAP'] } },
    ]);
    const { metrics, system } = runPreset('vmm-external');
    expect(system.describe().devices[0]!.handlers.map((h) => h.handler.type)).toEqual(['external']);
    expect(metrics.system.faults.byCategory.MAP).toBeGreaterThan(0);
    expect(Object.keys(metrics.system.faults.outcomes).every((o) => o.includes('INVALID'))).toBe(true);
  });
});
