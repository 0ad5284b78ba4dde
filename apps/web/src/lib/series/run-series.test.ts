import { describe, expect, it } from 'vitest';
import { ApiError } from '@iommu-lab/client';
import type { SeriesAnswerView } from '@iommu-lab/wire';
import { loadRunSeries } from './run-series';

const refusing = (status: number, code: string, reason: string) => ({
  runSeries: () =>
    Promise.reject(new ApiError(status, { code, message: 'refused', reason }, 'GET /runs/r1/series')),
});

describe("a saved run's series", () => {
  it('are drawn per group, on the bins the API answered', async () => {
    const zeros = [0, 0];
    const answer = {
      binNs: 1_000,
      startNs: 0,
      endNs: 1_500,
      bins: 2,
      series: {
        faultRate: { flowsStarted: [1, 0], pageRequests: [2, 0] },
        responses: { SUCCESS: zeros, INVALID: zeros, FAILURE: zeros, RETRY: zeros, ABORT: zeros },
        outstandingRequests: {},
        queueOccupancy: {},
        iotlbHitRate: [null, null],
        atcHitRate: [null, null],
      },
    } as unknown as SeriesAnswerView;
    const series = await loadRunSeries({ runSeries: () => Promise.resolve(answer) }, 'r1');
    expect(series.kind).toBe('drawn');
    if (series.kind !== 'drawn') return;
    expect(series.binNs).toBe(1_000);
    expect(series.groups.map((group) => group.key)).toEqual(['faultRate']);
    expect(series.groups[0]!.lines[1]).toEqual({ label: 'page requests', values: [2, 0] });
  });

  it('of a run not done yet (409) are a state to say, not an error', async () => {
    expect(await loadRunSeries(refusing(409, 'ERUNSTATE', 'run-not-done'), 'r1')).toEqual({
      kind: 'not-done',
    });
  });

  it('of a run stored without series (404 no-series) are a state to say', async () => {
    expect(await loadRunSeries(refusing(404, 'ENOENT', 'no-series'), 'r1')).toEqual({ kind: 'none' });
  });

  it('of a run that is gone are an error with its code', async () => {
    expect(await loadRunSeries(refusing(404, 'ENOENT', 'no-such-run'), 'r1')).toEqual({
      kind: 'failed',
      error: { code: 'ENOENT', message: 'refused', reason: 'no-such-run' },
    });
  });
});
