/**
 * A saved run's series, as the run detail draws them: one chart per group. A run that is not done (409:
 * the series is stored when it ends) and a run stored without series (404 no-series) are things to say
 * in a sentence, not errors; anything else is an error with its code.
 */
import { type IommuLabClient, isApiError } from '@iommu-lab/client';
import { describeError } from '../client';
import { type SeriesGroup, seriesGroups } from './series-groups';

export type RunSeries =
  | { kind: 'drawn'; groups: SeriesGroup[]; binNs: number; endNs: number }
  | { kind: 'not-done' }
  | { kind: 'none' }
  | { kind: 'failed'; error: ReturnType<typeof describeError> };

export async function loadRunSeries(
  client: Pick<IommuLabClient, 'runSeries'>,
  run: string,
): Promise<RunSeries> {
  try {
    const answer = await client.runSeries(run);
    return { kind: 'drawn', groups: seriesGroups(answer), binNs: answer.binNs, endNs: answer.endNs };
  } catch (error) {
    if (isApiError(error) && error.status === 409) return { kind: 'not-done' };
    if (isApiError(error) && error.status === 404 && error.reason === 'no-series') return { kind: 'none' };
    return { kind: 'failed', error: describeError(error) };
  }
}
