/**
 * Metrics as time series binned in simulated time, for a live lab (GET /labs/:lab/series) and a run
 * (GET /runs/:run/series): the emulator's answer (metrics/sim-series.ts). Bin i covers
 * [startNs + i·binNs, startNs + (i+1)·binNs); the last bin holds endNs. Counts are per bin, so they re-bin
 * exactly; `units` says what each series counts.
 */
import Type, { type Static } from 'typebox';
import type { SimSeriesAnswer } from '@iommu-lab/emulator';

export const SeriesQuery = Type.Object(
  {
    binNs: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'Bin width in ns, rounded up to a multiple of the stored width (a finer one is answered at the stored width); default: about 200 bins over the span. More than 10 000 bins is refused (422).',
      }),
    ),
  },
  { additionalProperties: false },
);
export type SeriesQueryView = Static<typeof SeriesQuery>;

const Counts = Type.Array(Type.Number());
const Rates = Type.Array(Type.Union([Type.Number(), Type.Null()]), {
  description: 'hits / lookups per bin; null where the bin had no lookup',
});

export const SeriesAnswer = Type.Object(
  {
    binNs: Type.Integer({ description: 'The width of these bins, in ns (a multiple of resolutionNs).' }),
    requestedBinNs: Type.Union([Type.Integer(), Type.Null()], {
      description: 'The width asked for; it differs from binNs when it was finer or not a multiple.',
    }),
    resolutionNs: Type.Integer({ description: 'The stored width: no finer one can be answered.' }),
    startNs: Type.Number(),
    endNs: Type.Number({ description: 'Simulated time of the answer.' }),
    bins: Type.Integer(),
    maxBins: Type.Integer({ description: 'The most bins an answer may have.' }),
    units: Type.Record(Type.String(), Type.String()),
    series: Type.Object({
      faultRate: Type.Object({ flowsStarted: Counts, pageRequests: Counts }),
      responses: Type.Object({
        SUCCESS: Counts,
        INVALID: Counts,
        FAILURE: Counts,
        RETRY: Counts,
        ABORT: Counts,
      }),
      outstandingRequests: Type.Record(Type.String(), Type.Object({ max: Counts, mean: Counts }), {
        description: 'By device: page requests outstanding, highest and time-weighted mean per bin',
      }),
      queueOccupancy: Type.Record(Type.String(), Counts, {
        description: 'By "<iommu>/<queue>": entries in the hardware queue, highest per bin',
      }),
      iotlbHitRate: Rates,
      atcHitRate: Rates,
      translations: Type.Object({
        iotlbHits: Counts,
        iotlbLookups: Counts,
        atcHits: Counts,
        atcLookups: Counts,
      }),
    }),
  },
  { $id: 'SimSeries' },
);
export type SeriesAnswerView = Static<typeof SeriesAnswer>;

// The emulator's answer and this schema agree: a mismatch is a type error here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Agree<T extends true> = T;
export type SeriesShapesAgree = [Agree<Same<SeriesAnswerView, SimSeriesAnswer>>];
