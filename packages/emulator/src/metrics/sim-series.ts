/**
 * Metrics as time series in simulated time: fault flows started and page requests sent, responses by
 * code (and stall resumes), outstanding page requests per device, occupancy per hardware queue, IOTLB and
 * ATC hits and lookups. A run's span is not known in advance, so the series keep a fixed number of bins
 * from time 0 at a fine width, and when time passes the last bin, neighbouring bins merge pairwise and the
 * width doubles; counts sum and maxima take the higher, so merging is exact. Every series is a
 * preallocated typed array (new ones only for a new queue, or for devices past the room their table has:
 * outstanding-series.ts): recording allocates nothing.
 *
 * `answer` gives plain JSON at the stored width; `rebinSeries` re-bins such an answer to a coarser width
 * (the API does the same with a run's stored answer).
 */
import { fail } from '../errors';
import type { ResponseCode } from '../fault/page-request';
import { SOURCE_ATC, SOURCE_IOTLB, SOURCE_WALK } from '../iommu/translation';
import { OccupancySeries, type SeriesBins, mergeSum } from './occupancy-series';
import { OutstandingSeries } from './outstanding-series';

/** Bins kept; the stored width doubles whenever time passes the last one. */
export const SERIES_CAPACITY = 1024;
/** The most bins an answer may have; a width that would give more is refused. */
export const MAX_SERIES_BINS = 10_000;
/** Bins of an answer when no width is asked for. */
export const DEFAULT_SERIES_BINS = 200;

export type SeriesResponse = ResponseCode | 'RETRY' | 'ABORT';
const RESPONSE_KEYS: readonly SeriesResponse[] = ['SUCCESS', 'INVALID', 'FAILURE', 'RETRY', 'ABORT'];

export interface SeriesQuery {
  /** Bin width in ns: rounded up to a multiple of the stored width; 'stored' answers at the stored width. */
  binNs?: number | 'stored';
}

/** Time series binned in simulated time (plain JSON): bin i covers [startNs + i·binNs, startNs + (i+1)·binNs). */
export interface SimSeriesAnswer {
  /** The width of the bins of this answer, in ns (a multiple of the stored width). */
  binNs: number;
  /** The width asked for, when one was; it differs from binNs when it was not a multiple of the stored width. */
  requestedBinNs: number | null;
  /** The stored width this answer was re-binned from: no finer width can be answered. */
  resolutionNs: number;
  startNs: number;
  /** Simulated time of the answer (the last bin holds it). */
  endNs: number;
  bins: number;
  maxBins: number;
  units: Record<string, string>;
  series: {
    faultRate: { flowsStarted: number[]; pageRequests: number[] };
    responses: Record<SeriesResponse, number[]>;
    outstandingRequests: Record<string, { max: number[]; mean: number[] }>;
    queueOccupancy: Record<string, number[]>;
    iotlbHitRate: (number | null)[];
    atcHitRate: (number | null)[];
    /** The counts the hit rates come from, so that the rates re-bin exactly. */
    translations: { iotlbHits: number[]; iotlbLookups: number[]; atcHits: number[]; atcLookups: number[] };
  };
}

const UNITS: Record<string, string> = {
  time: 'ns of simulated time',
  faultRate: 'count per bin (divide by binNs / 1000 for a rate per µs)',
  responses:
    'count per bin: page responses by code (SUCCESS, INVALID, FAILURE) and stall resumes (RETRY, ABORT)',
  outstandingRequests: 'page requests outstanding at the device: highest and time-weighted mean per bin',
  queueOccupancy: 'entries in the hardware queue: highest per bin',
  iotlbHitRate: 'IOTLB hits / IOTLB lookups per bin (null: no lookup)',
  atcHitRate: 'ATC hits / ATC lookups per bin (null: no lookup)',
  translations: 'count per bin',
};

export class SimSeries implements SeriesBins {
  readonly capacity = SERIES_CAPACITY;
  /** Stored bin width, in ns: 2^k. */
  binNs = 1;
  private currentBin = 0;
  /** End of the current bin: a time before it needs no bin arithmetic. */
  private currentEndNs = 1;
  private readonly flowsStarted = new Float64Array(SERIES_CAPACITY);
  private readonly pageRequests = new Float64Array(SERIES_CAPACITY);
  private readonly responses: Record<SeriesResponse, Float64Array> = {
    SUCCESS: new Float64Array(SERIES_CAPACITY),
    INVALID: new Float64Array(SERIES_CAPACITY),
    FAILURE: new Float64Array(SERIES_CAPACITY),
    RETRY: new Float64Array(SERIES_CAPACITY),
    ABORT: new Float64Array(SERIES_CAPACITY),
  };
  private readonly iotlbHits = new Float64Array(SERIES_CAPACITY);
  private readonly iotlbLookups = new Float64Array(SERIES_CAPACITY);
  private readonly atcHits = new Float64Array(SERIES_CAPACITY);
  private readonly atcLookups = new Float64Array(SERIES_CAPACITY);
  private readonly counts: readonly Float64Array[] = [
    this.flowsStarted,
    this.pageRequests,
    ...RESPONSE_KEYS.map((code) => this.responses[code]),
    this.iotlbHits,
    this.iotlbLookups,
    this.atcHits,
    this.atcLookups,
  ];
  private readonly outstanding = new OutstandingSeries(this);
  private readonly queues = new Map<string, OccupancySeries>();

  constructor(private readonly clock: { readonly nowNs: number }) {}

  get nowNs(): number {
    return this.clock.nowNs;
  }

  // ——— recording (hot paths: no allocation) ———

  flowStarted(): void {
    this.flowsStarted[this.nowBin()]!++;
  }

  pageRequest(): void {
    this.pageRequests[this.nowBin()]!++;
  }

  response(code: SeriesResponse): void {
    this.responses[code][this.nowBin()]!++;
  }

  /** One page's translation, counted as the DMA engine counts it (dma-engine.ts countIn). */
  translation(source: number, atsRequest: boolean): void {
    const bin = this.nowBin();
    if (source === SOURCE_ATC) {
      this.atcHits[bin]!++;
      this.atcLookups[bin]!++;
    } else if (atsRequest) this.atcLookups[bin]!++;
    if (source === SOURCE_IOTLB) {
      this.iotlbHits[bin]!++;
      this.iotlbLookups[bin]!++;
    } else if (source === SOURCE_WALK) this.iotlbLookups[bin]!++;
  }

  /** The device's PRI requester has `count` page requests outstanding from now on. */
  outstandingRequests(device: string, count: number): void {
    this.outstandingInColumn(this.outstanding.column(device), count);
  }

  /** The column of a device in the outstanding requests (once per device: then outstandingInColumn). */
  deviceColumn(device: string): number {
    return this.outstanding.column(device);
  }

  /** As outstandingRequests, for the device in `column` (deviceColumn), without looking its id up. */
  outstandingInColumn(column: number, count: number): void {
    this.outstanding.record(column, this.clock.nowNs, count);
  }

  /** The occupancy series of a hardware queue, named "<iommu>/<queue>" (one per queue). */
  queue(name: string): OccupancySeries {
    let series = this.queues.get(name);
    if (series === undefined) this.queues.set(name, (series = new OccupancySeries(this)));
    return series;
  }

  /** A level's change may be dated ahead of the clock: it coarsens the bins but leaves the clock's bin alone. */
  binAt(timeNs: number): number {
    while (Math.floor(timeNs / this.binNs) >= SERIES_CAPACITY) this.coarsen();
    return Math.floor(timeNs / this.binNs);
  }

  private nowBin(): number {
    const now = this.clock.nowNs;
    if (now >= this.currentEndNs) this.advance(now);
    return this.currentBin;
  }

  /** Moves the current bin to the one holding `timeNs`, doubling the width until that bin exists. */
  private advance(timeNs: number): void {
    while (Math.floor(timeNs / this.binNs) >= SERIES_CAPACITY) this.coarsen();
    this.currentBin = Math.floor(timeNs / this.binNs);
    this.currentEndNs = (this.currentBin + 1) * this.binNs;
  }

  private coarsen(): void {
    for (const values of this.counts) mergeSum(values);
    this.outstanding.mergePairs();
    for (const series of this.queues.values()) series.mergePairs();
    this.binNs *= 2;
    this.currentBin >>= 1;
    this.currentEndNs = (this.currentBin + 1) * this.binNs;
  }

  // ——— answers ———

  /** Every series up to now at the stored width, or re-binned to the width asked for. */
  answer(query: SeriesQuery = {}): SimSeriesAnswer {
    const endNs = this.clock.nowNs;
    this.binAt(endNs);
    this.outstanding.holdAllUntil(endNs);
    for (const series of this.queues.values()) series.holdUntil(endNs);
    const width = this.binNs;
    const bins = Math.floor(endNs / width) + 1;
    const counts = (values: Float64Array) => Array.from(values.subarray(0, bins));
    const translations = {
      iotlbHits: counts(this.iotlbHits),
      iotlbLookups: counts(this.iotlbLookups),
      atcHits: counts(this.atcHits),
      atcLookups: counts(this.atcLookups),
    };
    const stored: SimSeriesAnswer = {
      binNs: width,
      requestedBinNs: null,
      resolutionNs: width,
      startNs: 0,
      endNs,
      bins,
      maxBins: MAX_SERIES_BINS,
      units: { ...UNITS },
      series: {
        faultRate: { flowsStarted: counts(this.flowsStarted), pageRequests: counts(this.pageRequests) },
        responses: Object.fromEntries(
          RESPONSE_KEYS.map((code) => [code, counts(this.responses[code])]),
        ) as Record<SeriesResponse, number[]>,
        outstandingRequests: Object.fromEntries(
          this.outstanding.devices.map((device, column) => {
            const integrals = this.outstanding.integrals(column, bins);
            const level = this.outstanding.level(column);
            return [
              device,
              {
                max: this.outstanding.maxima(column, bins),
                mean: integrals.map((integral, bin) => {
                  const coveredNs = Math.min((bin + 1) * width, endNs) - bin * width;
                  return coveredNs > 0 ? integral / coveredNs : level;
                }),
              },
            ];
          }),
        ),
        queueOccupancy: Object.fromEntries(
          [...this.queues].map(([name, series]) => [name, counts(series.maxByBin)]),
        ),
        iotlbHitRate: rates(translations.iotlbHits, translations.iotlbLookups),
        atcHitRate: rates(translations.atcHits, translations.atcLookups),
        translations,
      },
    };
    return query.binNs === 'stored' ? stored : rebinSeries(stored, query.binNs);
  }
}

/**
 * Re-bins an answer to `requestedBinNs` rounded up to a multiple of its width (a finer width is answered
 * at its width), or, without one, to the multiple that gives about DEFAULT_SERIES_BINS bins. A width
 * that would give more than MAX_SERIES_BINS bins over the span is refused (EINVAL, too-many-bins).
 */
export function rebinSeries(answer: SimSeriesAnswer, requestedBinNs?: number): SimSeriesAnswer {
  const base = answer.binNs;
  const spanNs = answer.endNs - answer.startNs;
  let factor: number;
  if (requestedBinNs === undefined) {
    factor = Math.max(1, Math.ceil((spanNs + 1) / (DEFAULT_SERIES_BINS * base)));
  } else {
    if (!Number.isInteger(requestedBinNs) || requestedBinNs < 1)
      fail('EINVAL', `A bin width is a whole number of ns, at least 1 (got ${requestedBinNs}).`, {
        reason: 'bad-bin-width',
      });
    const wouldBe = Math.floor(spanNs / requestedBinNs) + 1;
    if (wouldBe > MAX_SERIES_BINS)
      fail(
        'EINVAL',
        `A bin width of ${requestedBinNs} ns over ${spanNs} ns of simulated time gives ${wouldBe} bins; the limit is ${MAX_SERIES_BINS} bins (use at least ${Math.ceil((spanNs + 1) / MAX_SERIES_BINS)} ns).`,
        { reason: 'too-many-bins' },
      );
    factor = Math.max(1, Math.ceil(requestedBinNs / base));
  }
  const width = base * factor;
  const bins = Math.floor(spanNs / width) + 1;
  const sum = (values: number[]) => group(values, factor, bins, (from, to) => total(values, from, to));
  const max = (values: number[]) =>
    group(values, factor, bins, (from, to) => Math.max(...values.slice(from, to)));
  const coveredNs = (bin: number, binWidth: number) =>
    Math.max(0, Math.min((bin + 1) * binWidth, spanNs) - bin * binWidth);
  const { series } = answer;
  const translations = {
    iotlbHits: sum(series.translations.iotlbHits),
    iotlbLookups: sum(series.translations.iotlbLookups),
    atcHits: sum(series.translations.atcHits),
    atcLookups: sum(series.translations.atcLookups),
  };
  return {
    ...answer,
    binNs: width,
    requestedBinNs: requestedBinNs ?? null,
    resolutionNs: answer.resolutionNs,
    bins,
    series: {
      faultRate: {
        flowsStarted: sum(series.faultRate.flowsStarted),
        pageRequests: sum(series.faultRate.pageRequests),
      },
      responses: Object.fromEntries(
        RESPONSE_KEYS.map((code) => [code, sum(series.responses[code])]),
      ) as Record<SeriesResponse, number[]>,
      outstandingRequests: Object.fromEntries(
        Object.entries(series.outstandingRequests).map(([device, level]) => [
          device,
          {
            max: max(level.max),
            // Means weighted by the time each bin covers (the last bin may be partly past the end).
            mean: group(level.mean, factor, bins, (from, to) => {
              let integral = 0;
              let covered = 0;
              for (let bin = from; bin < to; bin++) {
                integral += level.mean[bin]! * coveredNs(bin, base);
                covered += coveredNs(bin, base);
              }
              return covered > 0 ? integral / covered : level.mean[to - 1]!;
            }),
          },
        ]),
      ),
      queueOccupancy: Object.fromEntries(
        Object.entries(series.queueOccupancy).map(([name, values]) => [name, max(values)]),
      ),
      iotlbHitRate: rates(translations.iotlbHits, translations.iotlbLookups),
      atcHitRate: rates(translations.atcHits, translations.atcLookups),
      translations,
    },
  };
}

/** One value per new bin from the old bins [i·factor, (i+1)·factor). */
function group(
  values: number[],
  factor: number,
  bins: number,
  reduce: (from: number, to: number) => number,
): number[] {
  if (factor === 1) return values.slice(0, bins);
  return Array.from({ length: bins }, (_, bin) =>
    reduce(bin * factor, Math.min((bin + 1) * factor, values.length)),
  );
}

function total(values: number[], from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += values[i]!;
  return sum;
}

function rates(hits: number[], lookups: number[]): (number | null)[] {
  return hits.map((hit, bin) => (lookups[bin]! > 0 ? hit / lookups[bin]! : null));
}
