import { PerformanceObserver } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { EmulatorError } from '../errors';
import { SOURCE_ATC, SOURCE_IOTLB, SOURCE_WALK } from '../iommu/translation';
import { presetById, startPreset } from '../presets/presets';
import { MAX_SERIES_BINS, SERIES_CAPACITY, SimSeries, type SimSeriesAnswer, rebinSeries } from './sim-series';

function runPreset(id: string) {
  const run = startPreset(presetById(id)!);
  run.system.runUntilIdle();
  expect(run.workload.finished).toBe(true);
  return run.system;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const highest = (values: number[]) => Math.max(...values);

/** Level × ns over the whole span, from the per-bin means (the last bin may be partly past the end). */
function integral(answer: SimSeriesAnswer, means: number[]): number {
  return means.reduce(
    (total, mean, bin) =>
      total + mean * Math.max(0, Math.min((bin + 1) * answer.binNs, answer.endNs) - bin * answer.binNs),
    0,
  );
}

describe('metrics as series binned in simulated time', () => {
  it('counts over the bins sum to the metrics totals of a PRI preset', () => {
    const system = runPreset('sva-pri-vtd');
    const metrics = system.metrics();
    const totals = metrics.system;
    for (const answer of [system.series({ binNs: 'stored' }), system.series()]) {
      const { series } = answer;
      expect(answer.endNs).toBe(system.nowNs);
      expect(sum(series.faultRate.pageRequests)).toBe(totals.faults.pageRequests);
      expect(totals.faults.pageRequests).toBeGreaterThan(100);
      expect(sum(series.faultRate.flowsStarted)).toBe(sum(Object.values(totals.faults.flows)));
      for (const code of ['SUCCESS', 'INVALID', 'FAILURE'] as const)
        expect(sum(series.responses[code])).toBe(totals.faults.responses[code]);
      const { translations } = totals;
      expect(sum(series.translations.iotlbHits)).toBe(translations.iotlbHits);
      expect(sum(series.translations.iotlbLookups)).toBe(translations.iotlbHits + translations.iotlbMisses);
      expect(sum(series.translations.atcHits)).toBe(translations.atcHits);
      expect(sum(series.translations.atcLookups)).toBe(translations.atcHits + translations.atcMisses);
      for (const [bin, rate] of series.iotlbHitRate.entries()) {
        const lookups = series.translations.iotlbLookups[bin]!;
        expect(rate).toBe(lookups > 0 ? series.translations.iotlbHits[bin]! / lookups : null);
      }
      // Levels: the queue's highest per bin reaches its highest ever; nothing is outstanding at the end.
      expect(highest(series.queueOccupancy['vtd0/PRQ']!)).toBe(metrics.queues.vtd0!.pageRequest.max);
      expect(Object.keys(series.queueOccupancy).sort()).toEqual(['vtd0/PRQ', 'vtd0/fault-recording']);
      const nic = series.outstandingRequests.nic0!;
      expect(highest(nic.max)).toBeGreaterThan(0);
      expect(highest(nic.max)).toBeLessThanOrEqual(system.device('nic0').pri.allocation);
      expect(nic.max.length).toBe(answer.bins);
      expect(highest(nic.mean)).toBeGreaterThan(0);
      for (const [bin, mean] of nic.mean.entries()) expect(mean).toBeLessThanOrEqual(nic.max[bin]!);
    }
  });

  it('stall resumes count by action (RETRY / ABORT) and sum to the metrics', () => {
    const system = runPreset('smmu-stall-sva');
    const { resumes } = system.metrics().system.faults;
    const { responses } = system.series().series;
    expect(resumes.RETRY).toBeGreaterThan(0);
    expect(sum(responses.RETRY)).toBe(resumes.RETRY);
    expect(sum(responses.ABORT)).toBe(resumes.ABORT);
  });

  it('the default width gives about 200 bins, a multiple of the stored width', () => {
    const system = runPreset('sva-pri-vtd');
    const answer = system.series();
    expect(answer.bins).toBeGreaterThanOrEqual(100);
    expect(answer.bins).toBeLessThanOrEqual(200);
    expect(answer.binNs % answer.resolutionNs).toBe(0);
    expect(answer.requestedBinNs).toBeNull();
    expect(answer.units.faultRate).toMatch(/count per bin/);
  });

  it('re-binning keeps counts, maxima and time-weighted means exactly', () => {
    const system = runPreset('sva-pri-vtd');
    const stored = system.series({ binNs: 'stored' });
    for (const factor of [2, 3, 7, 64]) {
      const coarse = rebinSeries(stored, stored.binNs * factor);
      expect(coarse.binNs).toBe(stored.binNs * factor);
      expect(coarse.bins).toBe(Math.ceil(stored.bins / factor));
      expect(sum(coarse.series.faultRate.pageRequests)).toBe(sum(stored.series.faultRate.pageRequests));
      expect(sum(coarse.series.responses.SUCCESS)).toBe(sum(stored.series.responses.SUCCESS));
      expect(sum(coarse.series.translations.iotlbLookups)).toBe(sum(stored.series.translations.iotlbLookups));
      expect(highest(coarse.series.queueOccupancy['vtd0/PRQ']!)).toBe(
        highest(stored.series.queueOccupancy['vtd0/PRQ']!),
      );
      const [storedNic, coarseNic] = [stored, coarse].map((a) => a.series.outstandingRequests.nic0!);
      expect(integral(coarse, coarseNic!.mean)).toBeCloseTo(integral(stored, storedNic!.mean), 3);
      // Re-binning the stored answer is what the system answers for the same width.
      expect(coarse).toEqual(system.series({ binNs: stored.binNs * factor }));
    }
  });

  it('a width that is not a multiple is rounded up; a finer one is answered at the stored width and says so', () => {
    const system = runPreset('sva-pri-vtd');
    const stored = system.series({ binNs: 'stored' });
    expect(stored.binNs).toBeGreaterThan(1);
    const finer = system.series({ binNs: stored.binNs / 2 });
    expect(finer.binNs).toBe(stored.binNs);
    expect(finer.requestedBinNs).toBe(stored.binNs / 2);
    expect(finer.series).toEqual(stored.series);
    const between = system.series({ binNs: stored.binNs * 2 + 1 });
    expect(between.binNs).toBe(stored.binNs * 3);
  });

  it('refuses a width that would give more than 10 000 bins, naming the limit', () => {
    const system = runPreset('sva-pri-vtd');
    const refused = (binNs: number) => {
      try {
        system.series({ binNs });
      } catch (error) {
        return error as EmulatorError;
      }
      throw new Error(`binNs ${binNs} was answered`);
    };
    const error = refused(1);
    expect(error).toBeInstanceOf(EmulatorError);
    expect(error.code).toBe('EINVAL');
    expect(error.reason).toBe('too-many-bins');
    expect(error.message).toContain(`${MAX_SERIES_BINS} bins`);
    // The smallest width the message offers is answered.
    const smallest = Number(/at least (\d+) ns/.exec(error.message)![1]);
    expect(Math.floor(system.nowNs / smallest) + 1).toBeLessThanOrEqual(MAX_SERIES_BINS);
    expect(() => system.series({ binNs: smallest })).not.toThrow();
    expect(refused(smallest - 1).reason).toBe('too-many-bins');
    expect(refused(0).reason).toBe('bad-bin-width');
    expect(refused(2.5).reason).toBe('bad-bin-width');
  });

  it('the same preset gives the same series, byte for byte', () => {
    const first = JSON.stringify(runPreset('nested-guest-sva').series({ binNs: 'stored' }));
    const second = JSON.stringify(runPreset('nested-guest-sva').series({ binNs: 'stored' }));
    expect(first).toBe(second);
  });
});

describe('the stored bins coarsen as the run grows', () => {
  it('bins double in width when time passes the last one, and counts merge exactly', () => {
    const clock = { nowNs: 0 };
    const series = new SimSeries(clock);
    const at = [0, 3, 1023, 1024, 5000, 1_000_000, 123_456_789];
    for (const timeNs of at) {
      clock.nowNs = timeNs;
      series.pageRequest();
      series.response('SUCCESS');
    }
    const answer = series.answer({ binNs: 'stored' });
    // 123 456 789 ns in at most 1024 bins: the width is the power of two that fits.
    expect(answer.binNs).toBe(2 ** Math.ceil(Math.log2((123_456_789 + 1) / SERIES_CAPACITY)));
    expect(answer.bins).toBeLessThanOrEqual(SERIES_CAPACITY);
    expect(sum(answer.series.faultRate.pageRequests)).toBe(at.length);
    for (const timeNs of at)
      expect(answer.series.faultRate.pageRequests[Math.floor(timeNs / answer.binNs)]).toBeGreaterThan(0);
    expect(answer.series.faultRate.pageRequests[0]).toBe(5); // 0, 3, 1023, 1024 and 5000 share the first bin
  });

  it("a queue change dated ahead of the clock leaves the clock's counts in their own bin", () => {
    const clock = { nowNs: 100 };
    const series = new SimSeries(clock);
    series.pageRequest();
    series.queue('iommu0/PRQ').record(900, 0); // the driver's round reads an entry at a later offset
    series.pageRequest();
    const answer = series.answer({ binNs: 'stored' });
    expect(answer.binNs).toBe(1);
    expect(answer.series.faultRate.pageRequests[100]).toBe(2);
  });

  it('a level holds across bins without changes: highest and time-weighted mean per bin', () => {
    const clock = { nowNs: 0 };
    const series = new SimSeries(clock);
    clock.nowNs = 10;
    series.outstandingRequests('dev', 4);
    clock.nowNs = 12;
    series.outstandingRequests('dev', 2);
    clock.nowNs = 100;
    series.outstandingRequests('dev', 0);
    const queue = series.queue('iommu0/PRQ');
    queue.record(20, 1);
    queue.record(30, 0);
    clock.nowNs = 200;
    const answer = series.answer({ binNs: 'stored' });
    expect(answer.binNs).toBe(1);
    const dev = answer.series.outstandingRequests.dev!;
    expect(dev.max.slice(9, 14)).toEqual([0, 4, 4, 2, 2]);
    expect(dev.max[99]).toBe(2);
    expect(dev.max[100]).toBe(0);
    expect(dev.mean[50]).toBe(2);
    const coarse = rebinSeries(answer, 100);
    // [0, 100): 4 for 2 ns, 2 for 88 ns.
    expect(coarse.series.outstandingRequests.dev!.mean[0]).toBeCloseTo((4 * 2 + 2 * 88) / 100, 10);
    expect(coarse.series.outstandingRequests.dev!.max).toEqual([4, 0, 0]);
    expect(coarse.series.queueOccupancy['iommu0/PRQ']).toEqual([1, 0, 0]);
    expect(queue.points().at(-1)).toEqual([200, 0]);
  });
});

/** Garbage collections that started while `work` ran (its second run, once optimised). */
async function collectionsDuring(work: () => void): Promise<number> {
  work();
  const entries: { startTime: number }[] = [];
  const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const start = performance.now();
  work();
  const end = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 20));
  observer.disconnect();
  return entries.filter((entry) => entry.startTime >= start && entry.startTime <= end).length;
}

describe('recording a series allocates nothing', () => {
  it('a control loop that allocates does trigger collections (the measurement can fail)', async () => {
    const sink: unknown[] = [];
    const collections = await collectionsDuring(() => {
      for (let i = 0; i < 3_000_000; i++) sink[i & 1023] = { i, more: [i] };
    });
    expect(collections).toBeGreaterThan(0);
  });

  it('no collection in 3 million recordings across bins, coarsening included', async () => {
    const clock = { nowNs: 0 };
    const series = new SimSeries(clock);
    const queue = series.queue('iommu0/PRQ');
    const sources = [SOURCE_ATC, SOURCE_IOTLB, SOURCE_WALK];
    series.outstandingRequests('dev0', 0); // a new device allocates its bins once
    let timeNs = 0;
    const collections = await collectionsDuring(() => {
      for (let i = 0; i < 3_000_000; i++) {
        timeNs += 7;
        clock.nowNs = timeNs;
        series.translation(sources[i % 3]!, (i & 1) === 0);
        if ((i & 15) === 0) {
          series.flowStarted();
          series.pageRequest();
          series.response('SUCCESS');
          series.outstandingRequests('dev0', i & 63);
          queue.record(timeNs, i & 31);
        }
      }
    });
    expect(series.binNs).toBeGreaterThan(1024);
    expect(collections).toBe(0);
  });
});
