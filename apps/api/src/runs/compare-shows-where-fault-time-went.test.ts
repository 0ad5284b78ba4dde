/**
 * Comparing runs hop by hop (issue 11): two runs whose faults take about as long for different reasons
 * differ visibly in where the time went.
 */
import { PRESETS, buildSystem, startPreset } from '@iommu-lab/emulator';
import { describe, expect, it } from 'vitest';
import { type ComparedRun, compareRuns } from './compare';

function runOf(id: string, latency: Record<string, number> = {}): ComparedRun {
  const preset = PRESETS.find((p) => p.id === 'sva-pri-vtd')!;
  const system = buildSystem({ ...preset.config, options: { ...preset.config.options, latency } });
  system.runWorkload(preset.workload);
  system.runUntilIdle();
  return {
    id,
    label: id,
    experiment: 'e',
    config: {},
    metrics: system.metrics(),
    histograms: system.histograms(),
  };
}

describe('compare: where did the fault time go', () => {
  it('gives each hop per run with its share of the fault time; a slower handle_mm_fault moves the share to the handler', () => {
    const fast = runOf('fast');
    const slowMm = runOf('slow-mm', { minorFaultNs: 20_000 });
    const result = compareRuns([fast, slowMm]);
    const hop = (name: string) => result.hops.find((h) => h.hop === name)!;
    expect(result.hops.map((h) => h.hop)).toEqual(
      expect.arrayContaining(['toIommu', 'queueWait', 'dispatch', 'handler', 'responseWrite', 'toDevice']),
    );
    // Shares of one run sum to 1.
    for (const run of [0, 1]) {
      const sum = result.hops.reduce((total, h) => total + (h.share[run] ?? 0), 0);
      expect(sum).toBeCloseTo(1, 9);
    }
    expect(hop('handler').share[1]!).toBeGreaterThan(hop('handler').share[0]! + 0.2);
    expect(hop('dispatch').share[1]!).toBeLessThan(hop('dispatch').share[0]!);
    expect(hop('dispatch').meanNs).toEqual([2000, 2000]);
    // And the per-hop distributions are there to compare bin by bin.
    expect(result.histograms['hop.handlerNs']!.counts).toHaveLength(2);
  });

  it('a hop only one run had is null for the other', () => {
    const pri = runOf('pri');
    const preset = PRESETS.find((p) => p.id === 'smmu-stall-sva')!;
    const run = startPreset(preset);
    run.system.runUntilIdle();
    const stall: ComparedRun = {
      id: 's',
      label: 's',
      experiment: 'e',
      config: {},
      metrics: run.system.metrics(),
      histograms: null,
    };
    const result = compareRuns([pri, stall]);
    const resume = result.hops.find((h) => h.hop === 'resume')!;
    expect(resume.count[0]).toBeNull();
    expect(resume.count[1]).toBeGreaterThan(0);
    expect(result.hops.find((h) => h.hop === 'toDevice')!.count[1]).toBeNull();
  });
});
