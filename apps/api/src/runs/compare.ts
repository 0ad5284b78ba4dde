/**
 * Comparing runs: every scalar metric side by side with its delta and ratio to the first run, grouped by
 * where it was counted (system, an IOMMU, a device), with the figures a reader compares first derived
 * beside the counters (throughput, hit rates, flows by outcome); each latency histogram on the union of
 * the runs' bins (the emulator's bins are fixed, so bins of different runs are the same bins); where the
 * fault time went hop by hop; each run's series in simulated time on one bin width, to overlay; and the
 * config paths whose values differ.
 *
 * A series is drawn, not listed: arrays in the metrics (a queue's occupancy points) never become metrics.
 */
import { HOPS, type HistogramSummary, type SimSeriesAnswer, rebinSeries } from '@iommu-lab/emulator';

type Json = unknown;

export interface ComparedRun {
  id: string;
  label: string;
  experiment: string;
  config: Json;
  metrics: Json;
  histograms: Record<string, [number, number][]> | null;
  /** Simulated time the run took, for its throughput. */
  simulatedNs?: number;
  /** The run's stored series (null for runs made before runs stored them). */
  series?: SimSeriesAnswer | null;
}

/** Leaves of a JSON value as path → value (arrays indexed). */
export function flatten(value: Json, path = '', out = new Map<string, Json>()): Map<string, Json> {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value)
      ? value.map((v, i) => [String(i), v] as const)
      : Object.entries(value);
    if (entries.length === 0) out.set(path || '/', value);
    for (const [key, child] of entries) flatten(child, `${path}/${key}`, out);
  } else out.set(path || '/', value);
  return out;
}

/** Scalar leaves only: an array is a series (drawn elsewhere), so neither it nor its items are metrics. */
function scalars(value: Json, path = '', out = new Map<string, number>()): Map<string, number> {
  if (Array.isArray(value)) return out;
  if (value !== null && typeof value === 'object')
    for (const [key, child] of Object.entries(value)) scalars(child, `${path}/${key}`, out);
  else if (typeof value === 'number') out.set(path, value);
  return out;
}

export type MetricGroup = 'system' | 'iommu' | 'device';

/** Where a metric was counted: /devices/<id>/… a device, /iommus/<id>/… and /queues/<id>/… an IOMMU. */
export function metricGroup(path: string): { group: MetricGroup; scope: string | null } {
  const [, top, id] = path.split('/');
  if (top === 'devices') return { group: 'device', scope: id ?? null };
  if (top === 'iommus' || top === 'queues') return { group: 'iommu', scope: id ?? null };
  return { group: 'system', scope: null };
}

interface Scope {
  transactions?: { completed?: number };
  bytes?: number;
  translations?: { atcHits?: number; atcMisses?: number; iotlbHits?: number; iotlbMisses?: number };
  faults?: { flows?: Record<string, number> };
}

const hitRate = (hits = 0, misses = 0) => (hits + misses > 0 ? hits / (hits + misses) : null);

/**
 * The figures a reader compares first that no counter holds: throughput per simulated time, IOTLB and ATC
 * hit rates, and fault flows by outcome (summed over mechanisms; an outcome another run had counts 0 here).
 */
function derive(scope: Scope, simulatedNs: number | undefined, outcomes: readonly string[]) {
  const t = scope.translations ?? {};
  const byOutcome = Object.fromEntries(outcomes.map((outcome) => [outcome, 0]));
  for (const [key, count] of Object.entries(scope.faults?.flows ?? {})) {
    const outcome = key.slice(key.indexOf(':') + 1);
    byOutcome[outcome] = (byOutcome[outcome] ?? 0) + count;
  }
  const perMs = (count: number | undefined) =>
    simulatedNs && simulatedNs > 0 && count !== undefined ? (count / simulatedNs) * 1e6 : null;
  return {
    throughput: {
      transactionsPerMs: perMs(scope.transactions?.completed),
      // bytes per ns is GB/s: ×1000 for MB/s.
      megabytesPerS:
        simulatedNs && simulatedNs > 0 && scope.bytes !== undefined
          ? (scope.bytes / simulatedNs) * 1e3
          : null,
    },
    translations: {
      iotlbHitRate: hitRate(t.iotlbHits, t.iotlbMisses),
      atcHitRate: hitRate(t.atcHits, t.atcMisses),
    },
    faults: { byOutcome },
  };
}

/** A run's metrics with the derived figures merged into each scope (system, every IOMMU, every device). */
function withDerived(run: ComparedRun, outcomes: readonly string[]): Map<string, number> {
  const metrics = (run.metrics ?? {}) as {
    system?: Scope;
    iommus?: Record<string, Scope>;
    devices?: Record<string, Scope>;
  };
  const map = scalars(metrics);
  const add = (prefix: string, scope: Scope | undefined, simulatedNs: number | undefined) => {
    if (!scope) return;
    for (const [path, value] of scalars(derive(scope, simulatedNs, outcomes)))
      if (value !== undefined) map.set(`${prefix}${path}`, value);
  };
  add('/system', metrics.system, run.simulatedNs);
  for (const [id, scope] of Object.entries(metrics.iommus ?? {}))
    add(`/iommus/${id}`, scope, run.simulatedNs);
  for (const [id, scope] of Object.entries(metrics.devices ?? {}))
    add(`/devices/${id}`, scope, run.simulatedNs);
  return map;
}

function outcomesOf(runs: readonly ComparedRun[]): string[] {
  const outcomes = new Set<string>();
  for (const run of runs) {
    const metrics = run.metrics as { system?: Scope } | null;
    for (const key of Object.keys(metrics?.system?.faults?.flows ?? {}))
      outcomes.add(key.slice(key.indexOf(':') + 1));
  }
  return [...outcomes].sort();
}

export function compareRuns(runs: readonly ComparedRun[]) {
  const outcomes = outcomesOf(runs);
  const metricMaps = runs.map((run) => withDerived(run, outcomes));
  const paths = [...new Set(metricMaps.flatMap((map) => [...map.keys()]))];
  const metrics = paths.map((path) => {
    const values = metricMaps.map((map) => map.get(path) ?? null);
    const base = values[0] ?? null;
    return {
      path,
      ...metricGroup(path),
      values,
      deltas: values.map((value) => (value === null || base === null ? null : value - base)),
      ratios: values.map((value) => (value === null || base === null || base === 0 ? null : value / base)),
    };
  });

  const names = [...new Set(runs.flatMap((run) => Object.keys(run.histograms ?? {})))];
  const histograms = Object.fromEntries(
    names.map((name) => {
      const perRun = runs.map((run) => new Map(run.histograms?.[name] ?? []));
      const bins = [...new Set(perRun.flatMap((map) => [...map.keys()]))].sort((a, b) => a - b);
      return [name, { bins, counts: perRun.map((map) => bins.map((bin) => map.get(bin) ?? 0)) }];
    }),
  );

  const configMaps = runs.map((run) => flatten(run.config));
  const configPaths = [...new Set(configMaps.flatMap((map) => [...map.keys()]))].sort();
  const configDiff = configPaths
    .map((path) => ({ path, values: configMaps.map((map) => (map.has(path) ? map.get(path) : null)) }))
    .filter(({ values }) => values.some((value) => JSON.stringify(value) !== JSON.stringify(values[0])));

  return {
    runs: runs.map(({ id, label, experiment }) => ({ id, label, experiment })),
    metrics,
    histograms,
    hops: compareHops(runs),
    series: compareSeries(runs),
    configDiff,
  };
}

/**
 * Where the fault time went, per run: for each hop of the fault flows, how many flows had it, its mean,
 * median and p99, and its share of all the time the run's flows spent (Σ hop time / Σ flow time), so two
 * runs whose faults take equally long for different reasons differ visibly. Hops no run had are left out.
 */
export function compareHops(runs: readonly ComparedRun[]) {
  const perRun = runs.map((run) => {
    const hops = ((run.metrics as { hopLatencyNs?: Record<string, HistogramSummary> } | null)?.hopLatencyNs ??
      {}) as Record<string, HistogramSummary>;
    const total = Object.values(hops).reduce((sum, hop) => sum + hop.mean * hop.count, 0);
    return { hops, total };
  });
  return HOPS.filter((hop) => perRun.some(({ hops }) => hops[hop] !== undefined)).map((hop) => {
    const stat = (pick: (summary: HistogramSummary, total: number) => number) =>
      perRun.map(({ hops, total }) => (hops[hop] === undefined ? null : pick(hops[hop], total)));
    return {
      hop,
      count: stat((s) => s.count),
      meanNs: stat((s) => s.mean),
      p50Ns: stat((s) => s.p50),
      p99Ns: stat((s) => s.p99),
      share: stat((s, total) => (total > 0 ? (s.mean * s.count) / total : 0)),
    };
  });
}

type Line = { key: string; label: string; unit: string; values: ((number | null)[] | null)[] };

/**
 * Each run's series re-binned to one width (the coarsest of the runs' default widths, so every run fits in
 * about 200 bins) and turned into what a chart overlays: counts per bin as rates per simulated µs, hit
 * ratios as percentages, levels as they are. Series that are zero (or empty) in every run are left out.
 */
export function compareSeries(runs: readonly ComparedRun[]) {
  const stored = runs.map((run) => run.series ?? null);
  const widest = Math.max(1, ...stored.map((answer) => (answer ? rebinSeries(answer).binNs : 1)));
  const answers = stored.map((answer) => (answer ? rebinSeries(answer, widest) : null));
  const time = answers.map((answer) =>
    answer ? { startNs: answer.startNs, binNs: answer.binNs, bins: answer.bins } : null,
  );

  const lines: Line[] = [];
  const line = (
    key: string,
    label: string,
    unit: string,
    pick: (series: SimSeriesAnswer['series']) => (number | null)[] | undefined,
    scale: (value: number, binNs: number) => number,
  ) => {
    const values = answers.map((answer) => {
      const raw = answer ? pick(answer.series) : undefined;
      return raw ? raw.map((value) => (value === null ? null : scale(value, answer!.binNs))) : null;
    });
    if (values.some((run) => run?.some((value) => value !== null && value !== 0)))
      lines.push({ key, label, unit, values });
  };
  const perUs = (count: number, binNs: number) => count / (binNs / 1000);
  const percent = (ratio: number) => ratio * 100;
  const level = (value: number) => value;

  line('faultRate/flowsStarted', 'Fault flows started', 'per µs', (s) => s.faultRate.flowsStarted, perUs);
  line('faultRate/pageRequests', 'Page requests sent', 'per µs', (s) => s.faultRate.pageRequests, perUs);
  const codes = ['SUCCESS', 'INVALID', 'FAILURE', 'RETRY', 'ABORT'] as const;
  for (const code of codes)
    line(`responses/${code}`, `Responses ${code}`, 'per µs', (s) => s.responses[code], perUs);
  line('iotlbHitRate', 'IOTLB hit rate', '%', (s) => s.iotlbHitRate, percent);
  line('atcHitRate', 'ATC hit rate', '%', (s) => s.atcHitRate, percent);
  const keysOf = (pick: (series: SimSeriesAnswer['series']) => object) =>
    [...new Set(answers.flatMap((answer) => (answer ? Object.keys(pick(answer.series)) : [])))].sort();
  for (const device of keysOf((s) => s.outstandingRequests))
    line(
      `outstandingRequests/${device}`,
      `Outstanding page requests, ${device} (highest per bin)`,
      'requests',
      (s) => s.outstandingRequests[device]?.max,
      level,
    );
  for (const queue of keysOf((s) => s.queueOccupancy))
    line(
      `queueOccupancy/${queue}`,
      `Queue occupancy, ${queue} (highest per bin)`,
      'entries',
      (s) => s.queueOccupancy[queue],
      level,
    );
  return { time, lines };
}
