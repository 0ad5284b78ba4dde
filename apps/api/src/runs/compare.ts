/**
 * Comparing runs: every numeric metric side by side with its delta and ratio to the first run, each
 * latency histogram on the union of the runs' bins (the emulator's bins are fixed, so bins of different
 * runs are the same bins), where the fault time went hop by hop, and the config paths whose values differ.
 */
import { HOPS, type HistogramSummary } from '@iommu-lab/emulator';

type Json = unknown;

export interface ComparedRun {
  id: string;
  label: string;
  experiment: string;
  config: Json;
  metrics: Json;
  histograms: Record<string, [number, number][]> | null;
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

export function compareRuns(runs: readonly ComparedRun[]) {
  const metricMaps = runs.map((run) => flatten(run.metrics ?? {}));
  const paths = [...new Set(metricMaps.flatMap((map) => [...map.keys()]))].filter((path) =>
    metricMaps.some((map) => typeof map.get(path) === 'number'),
  );
  const metrics = paths.map((path) => {
    const values = metricMaps.map((map) => {
      const value = map.get(path);
      return typeof value === 'number' ? value : null;
    });
    const base = values[0] ?? null;
    return {
      path,
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
