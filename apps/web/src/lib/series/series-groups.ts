/**
 * A series answer (a lab's or a saved run's) as charts: one group per kind of series, each a set of lines
 * over simulated time (x: each bin's start in ns) sharing a unit. Counts become rates per µs of simulated
 * time (so answers of any bin width agree), hit ratios percentages, levels stay as they are.
 */
import type { SeriesAnswerView } from '@iommu-lab/wire';
import { ratePerMicrosecond } from './sim-time';

export interface SeriesLine {
  label: string;
  values: (number | null)[];
}

export interface SeriesGroup {
  key: string;
  title: string;
  /** The y axis's label. */
  unit: string;
  x: number[];
  lines: SeriesLine[];
}

export const PER_SIMULATED_US = 'per µs of simulated time';

function binStarts(answer: SeriesAnswerView): number[] {
  return Array.from({ length: answer.bins }, (_, bin) => answer.startNs + bin * answer.binNs);
}

const rate = (answer: SeriesAnswerView, label: string, counts: readonly number[]): SeriesLine => ({
  label,
  values: ratePerMicrosecond(answer, counts).y,
});

/**
 * Fault flows started and page requests sent: the live chart of the stream (with no answer yet, its lines
 * without points), and a run's first chart.
 */
export function faultRateGroup(answer: SeriesAnswerView | null): SeriesGroup {
  const { flowsStarted, pageRequests } = answer?.series.faultRate ?? { flowsStarted: [], pageRequests: [] };
  const line = (label: string, counts: readonly number[]) =>
    answer ? rate(answer, label, counts) : { label, values: [] };
  return {
    key: 'faultRate',
    title: 'Fault rate',
    unit: PER_SIMULATED_US,
    x: answer ? binStarts(answer) : [],
    lines: [line('fault flows started', flowsStarted), line('page requests', pageRequests)],
  };
}

const drawn = (line: SeriesLine) => line.values.some((value) => value !== null && value !== 0);

/** Every group with something to draw; lines zero (or without a value) throughout are left out. */
export function seriesGroups(answer: SeriesAnswerView): SeriesGroup[] {
  const { series } = answer;
  const x = binStarts(answer);
  const percent = (ratios: readonly (number | null)[]) =>
    ratios.map((ratio) => (ratio === null ? null : ratio * 100));
  const groups: SeriesGroup[] = [
    faultRateGroup(answer),
    {
      key: 'responses',
      title: 'Page responses by code, and stall resumes',
      unit: PER_SIMULATED_US,
      x,
      lines: Object.entries(series.responses).map(([code, counts]) => rate(answer, code, counts)),
    },
    {
      key: 'outstandingRequests',
      title: 'Page requests outstanding at each device (highest per bin)',
      unit: 'requests',
      x,
      lines: Object.entries(series.outstandingRequests).map(([device, { max }]) => ({
        label: device,
        values: max,
      })),
    },
    {
      key: 'queueOccupancy',
      title: 'Hardware queue occupancy (highest per bin)',
      unit: 'entries',
      x,
      lines: Object.entries(series.queueOccupancy).map(([queue, levels]) => ({
        label: queue,
        values: levels,
      })),
    },
    {
      key: 'hitRates',
      title: 'Translation hit rates',
      unit: '% of lookups',
      x,
      lines: [
        { label: 'IOTLB', values: percent(series.iotlbHitRate) },
        { label: 'ATC', values: percent(series.atcHitRate) },
      ],
    },
  ];
  return groups
    .map((group) => ({ ...group, lines: group.lines.filter(drawn) }))
    .filter((group) => group.lines.length > 0);
}
