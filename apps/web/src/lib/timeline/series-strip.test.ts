import { describe, expect, it } from 'vitest';
import type { SeriesAnswerView } from '@iommu-lab/wire';
import { SERIES_BINS, seriesBinNs, timelineSeries } from './series-strip';

describe("the timeline's series", () => {
  it('asks for about SERIES_BINS bins over the span, never a zero width', () => {
    expect(seriesBinNs(4_000_000)).toBe(4_000_000 / SERIES_BINS);
    expect(seriesBinNs(10)).toBe(1);
  });

  it("merges an IOMMU's queues into one occupancy line (the highest of them per bin)", () => {
    const answer = {
      startNs: 100,
      binNs: 50,
      series: {
        faultRate: { flowsStarted: [1, 4, 0], pageRequests: [4, 16, 0] },
        queueOccupancy: { 'vtd0/pageRequest': [2, 7, 0], 'vtd0/fault': [3, 0, 1], 'smmu0/event': [0, 0, 9] },
      },
    } as unknown as SeriesAnswerView;
    const series = timelineSeries(answer);
    expect([...series.flowsStarted]).toEqual([1, 4, 0]);
    expect(series.maxFlows).toBe(4);
    expect(series.totalFlows).toBe(5);
    expect([...series.occupancy.get('vtd0')!]).toEqual([3, 7, 1]);
    expect([...series.occupancy.get('smmu0')!]).toEqual([0, 0, 9]);
    expect(series.maxOccupancy).toBe(9);
  });
});
