/**
 * The headline figures of a run and of a comparison: the ones a reader compares first, with a human
 * name, a unit and the direction that is better. The CLI's tables and the dashboard's comparison both
 * read this list, so they show the same figures. Browser-safe (no Node imports).
 *
 * `path` is a JSON pointer into a run's metrics; the figures marked `derived` exist only in a comparison's
 * metrics (GET /compare derives throughput, hit rates and flows by outcome beside the counters).
 */
import type { CompareResult } from './types';

export type FigureSection = 'throughput' | 'latency' | 'faults' | 'caches';
export type FigureUnit = 'transactions/ms' | 'MB/s' | 'ns' | 'count' | '%';

export interface HeadlineFigure {
  key: string;
  label: string;
  section: FigureSection;
  path: string;
  unit: FigureUnit;
  /** Which way is an improvement; null where neither is (a count the workload fixes). */
  better: 'higher' | 'lower' | null;
  /** Only in a comparison's metrics, not in a run's own. */
  derived?: true;
  /** A stored value is this many of the unit (hit rates are stored 0…1 and shown in %). */
  scale?: number;
  /** Left out when no run has it (an outcome no flow of these runs had). */
  optional?: true;
}

const figure = (f: HeadlineFigure) => f;

export const HEADLINE_FIGURES: readonly HeadlineFigure[] = [
  figure({
    key: 'throughput',
    label: 'Throughput',
    section: 'throughput',
    path: '/system/throughput/transactionsPerMs',
    unit: 'transactions/ms',
    better: 'higher',
    derived: true,
  }),
  figure({
    key: 'bandwidth',
    label: 'Bandwidth',
    section: 'throughput',
    path: '/system/throughput/megabytesPerS',
    unit: 'MB/s',
    better: 'higher',
    derived: true,
  }),
  figure({
    key: 'transactionsCompleted',
    label: 'Transactions completed',
    section: 'throughput',
    path: '/system/transactions/completed',
    unit: 'count',
    better: null,
  }),
  figure({
    key: 'transactionsFaulted',
    label: 'Transactions faulted',
    section: 'throughput',
    path: '/system/transactions/faulted',
    unit: 'count',
    better: 'lower',
  }),
  figure({
    key: 'dmaLatencyP50Ns',
    label: 'DMA latency p50',
    section: 'latency',
    path: '/system/dmaLatencyNs/p50',
    unit: 'ns',
    better: 'lower',
  }),
  figure({
    key: 'dmaLatencyP99Ns',
    label: 'DMA latency p99',
    section: 'latency',
    path: '/system/dmaLatencyNs/p99',
    unit: 'ns',
    better: 'lower',
  }),
  figure({
    key: 'faultLatencyP50Ns',
    label: 'Fault latency p50',
    section: 'latency',
    path: '/system/faults/latencyNs/p50',
    unit: 'ns',
    better: 'lower',
  }),
  figure({
    key: 'faultLatencyP90Ns',
    label: 'Fault latency p90',
    section: 'latency',
    path: '/system/faults/latencyNs/p90',
    unit: 'ns',
    better: 'lower',
  }),
  figure({
    key: 'faultLatencyP99Ns',
    label: 'Fault latency p99',
    section: 'latency',
    path: '/system/faults/latencyNs/p99',
    unit: 'ns',
    better: 'lower',
  }),
  figure({
    key: 'pageRequests',
    label: 'Page requests',
    section: 'faults',
    path: '/system/faults/pageRequests',
    unit: 'count',
    better: 'lower',
  }),
  ...(
    [
      ['resumed', null],
      ['refaulted', 'lower'],
      ['failed', 'lower'],
      ['dropped', 'lower'],
      ['discarded', 'lower'],
      ['aborted', 'lower'],
      ['recorded', 'lower'],
      ['lost', 'lower'],
    ] as const
  ).map(([outcome, better]) =>
    figure({
      key: `flows.${outcome}`,
      label: `Fault flows ${outcome}`,
      section: 'faults',
      path: `/system/faults/byOutcome/${outcome}`,
      unit: 'count',
      better,
      derived: true,
      optional: true,
    }),
  ),
  figure({
    key: 'stage1',
    label: 'Stage-1 faults',
    section: 'faults',
    path: '/system/faults/byStage/stage1',
    unit: 'count',
    better: null,
  }),
  figure({
    key: 'stage2',
    label: 'Stage-2 faults',
    section: 'faults',
    path: '/system/faults/byStage/stage2',
    unit: 'count',
    better: null,
  }),
  figure({
    key: 'iotlbHitRate',
    label: 'IOTLB hit rate',
    section: 'caches',
    path: '/system/translations/iotlbHitRate',
    unit: '%',
    better: 'higher',
    derived: true,
    scale: 100,
    optional: true,
  }),
  figure({
    key: 'atcHitRate',
    label: 'ATC hit rate',
    section: 'caches',
    path: '/system/translations/atcHitRate',
    unit: '%',
    better: 'higher',
    derived: true,
    scale: 100,
    optional: true,
  }),
];

/** The figures a run's own metrics hold (the CLI's run and sweep tables). */
export const RUN_FIGURES = HEADLINE_FIGURES.filter((f) => !f.derived);

export interface ComparedFigure {
  figure: HeadlineFigure;
  /** Per run, in the figure's unit (scaled). */
  values: (number | null)[];
  /** Each run minus the first, in the figure's unit. */
  deltas: (number | null)[];
  ratios: (number | null)[];
  /** Per run: the delta read by the figure's direction. */
  verdicts: ('better' | 'worse' | 'same' | null)[];
}

/** A comparison's headline figures, in HEADLINE_FIGURES' order (optional ones no run has left out). */
export function headlineFigures(result: CompareResult): ComparedFigure[] {
  const byPath = new Map(result.metrics.map((metric) => [metric.path, metric]));
  const none = result.runs.map(() => null);
  return HEADLINE_FIGURES.flatMap((figure) => {
    const metric = byPath.get(figure.path);
    if (!metric && figure.optional) return [];
    const scale = figure.scale ?? 1;
    const times = (value: number | null | undefined) =>
      value === null || value === undefined ? null : value * scale;
    const deltas = metric ? metric.deltas.map(times) : none;
    return [
      {
        figure,
        values: metric ? metric.values.map(times) : none,
        deltas,
        ratios: metric ? metric.ratios : none,
        verdicts: deltas.map((delta, run) => verdict(figure, delta, run)),
      },
    ];
  });
}

function verdict(
  figure: HeadlineFigure,
  delta: number | null,
  run: number,
): ComparedFigure['verdicts'][number] {
  if (run === 0 || delta === null || figure.better === null) return null;
  if (delta === 0) return 'same';
  return delta > 0 === (figure.better === 'higher') ? 'better' : 'worse';
}
