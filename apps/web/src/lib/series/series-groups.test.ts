import { describe, expect, it } from 'vitest';
import type { SeriesAnswerView } from '@iommu-lab/wire';
import { faultRateGroup, seriesGroups } from './series-groups';

const zeros = [0, 0, 0];
function answer(): SeriesAnswerView {
  return {
    binNs: 2_000,
    requestedBinNs: null,
    resolutionNs: 1_024,
    startNs: 0,
    endNs: 5_000,
    bins: 3,
    maxBins: 10_000,
    units: {},
    series: {
      faultRate: { flowsStarted: [4, 0, 2], pageRequests: [8, 2, 0] },
      responses: { SUCCESS: [2, 2, 0], INVALID: zeros, FAILURE: zeros, RETRY: zeros, ABORT: zeros },
      outstandingRequests: { nic0: { max: [3, 1, 0], mean: [1.5, 0.5, 0] } },
      queueOccupancy: { 'vtd0/pageRequest': [2, 0, 0], 'vtd0/invalidation': zeros },
      iotlbHitRate: [0.5, null, 1],
      atcHitRate: [null, null, null],
      translations: { iotlbHits: [1, 0, 2], iotlbLookups: [2, 0, 2], atcHits: zeros, atcLookups: zeros },
    },
  };
}

describe("a series answer's charts", () => {
  it('places every bin at its start in simulated ns, counts as rates per µs', () => {
    const group = faultRateGroup(answer());
    expect(group.x).toEqual([0, 2_000, 4_000]);
    expect(group.unit).toBe('per µs of simulated time');
    expect(group.lines).toEqual([
      { label: 'fault flows started', values: [2, 0, 1] },
      { label: 'page requests', values: [4, 1, 0] },
    ]);
  });

  it('with no answer yet, the fault-rate chart has its two lines and no point', () => {
    const group = faultRateGroup(null);
    expect(group.x).toEqual([]);
    expect(group.lines).toEqual([
      { label: 'fault flows started', values: [] },
      { label: 'page requests', values: [] },
    ]);
  });

  it('keeps every group with something to draw, each line in its unit, and leaves out lines zero throughout', () => {
    const groups = seriesGroups(answer());
    expect(groups.map((group) => [group.key, group.unit, group.lines.map((line) => line.label)])).toEqual([
      ['faultRate', 'per µs of simulated time', ['fault flows started', 'page requests']],
      ['responses', 'per µs of simulated time', ['SUCCESS']],
      ['outstandingRequests', 'requests', ['nic0']],
      ['queueOccupancy', 'entries', ['vtd0/pageRequest']],
      ['hitRates', '% of lookups', ['IOTLB']],
    ]);
    expect(groups.find((group) => group.key === 'hitRates')!.lines[0]!.values).toEqual([50, null, 100]);
  });

  it('an answer with nothing but zeros has no chart', () => {
    const quiet = answer();
    quiet.series.faultRate = { flowsStarted: zeros, pageRequests: zeros };
    quiet.series.responses.SUCCESS = zeros;
    quiet.series.outstandingRequests = {};
    quiet.series.queueOccupancy = {};
    quiet.series.iotlbHitRate = [null, null, null];
    expect(seriesGroups(quiet)).toEqual([]);
  });
});
