/** Plain-text output of the CLI: tables, numbers, the main metrics of a run, one line per event. */
import { RUN_FIGURES, headlineFigures } from '../headline';
import type { CompareResult, FlowDetail, FlowRecord, RunView, WireEvent } from '../types';

/** Aligned columns; numbers (and anything starting with a sign or a digit) right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  const numeric = header.map((_, column) =>
    rows.every((row) => /^([-+×]?[\d.,]+[%a-zµ]*|-|)$/.test(row[column] ?? '')),
  );
  const line = (row: string[]) =>
    row
      .map((cell, column) =>
        numeric[column] && column > 0 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((width) => '─'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

/** 1234567 → "1,234,567"; 0.123456 → "0.1235"; null → "-". */
export function number(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toLocaleString('en-US', { maximumSignificantDigits: 4 });
}

export function signed(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  return value > 0 ? `+${number(value)}` : number(value);
}

export function ratio(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  return `×${value.toFixed(value >= 100 ? 0 : 3)}`;
}

/** A JSON pointer ("/system/faults/pageRequests") into a document. */
export function pointer(document: unknown, path: string): unknown {
  let current = document;
  for (const key of path.split('/').slice(1)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return current;
}

/** The main metrics of a run, by JSON pointer into its metrics: the headline figures a run holds (headline.ts). */
export const MAIN_METRICS = RUN_FIGURES.map(({ key, label, path, unit }) => ({
  key,
  label: `${label.toLowerCase()}${unit === 'count' ? '' : ` (${unit})`}`,
  path,
}));

export type RunSummary = Record<string, number | null>;

export function summarize(run: RunView): RunSummary {
  const summary = { faultRecords: run.faultRecords } as RunSummary;
  for (const metric of MAIN_METRICS) {
    const value = pointer(run.metrics, metric.path);
    summary[metric.key] = typeof value === 'number' ? value : null;
  }
  return summary;
}

export const runTitle = (run: RunView) => `${run.label} (${run.id})`;

/** Rows: the main metrics and the fault records; columns: the runs. */
export function metricsTable(runs: RunView[]): string {
  const summaries = runs.map(summarize);
  const rows = [
    ...MAIN_METRICS.map((metric) => [metric.label, ...summaries.map((s) => number(s[metric.key]))]),
    ['fault records', ...summaries.map((s) => number(s.faultRecords))],
  ];
  const header = runs.length === 1 ? ['metric', 'value'] : ['metric', ...runs.map((run) => run.label)];
  return table(header, rows);
}

/**
 * A comparison's headline figures (headline.ts), or with `all` every metric by path, each run's value with
 * its delta and ratio to the first run.
 */
export function compareTable(result: CompareResult, all = false): string {
  const unitOf = (unit: string) => (unit === 'count' ? '' : ` (${unit})`);
  const chosen = all
    ? result.metrics.map((metric) => ({ label: metric.path, ...metric }))
    : headlineFigures(result).map(({ figure, ...figures }) => ({
        label: `${figure.label.toLowerCase()}${unitOf(figure.unit)}`,
        ...figures,
      }));
  const [first, ...others] = result.runs;
  const header = [
    'metric',
    first?.label ?? 'run 1',
    ...others.flatMap((run, i) => [run.label || `run ${i + 2}`, 'Δ', 'ratio']),
  ];
  const rows = chosen.map(({ label, values, deltas, ratios }) => {
    const cells = [label, number(values[0])];
    others.forEach((_, i) => cells.push(number(values[i + 1]), signed(deltas[i + 1]), ratio(ratios[i + 1])));
    return cells;
  });
  return table(header, rows);
}

/** Where the fault time went: each hop's mean (µs) and share of the fault time, run beside run. */
export function hopsTable(result: CompareResult): string {
  if (result.hops.length === 0) return 'fault time: no fault flows';
  const runs = result.runs.map((run, i) => run.label || `run ${i + 1}`);
  const header = ['hop', ...runs.flatMap((label) => [`${label} mean µs`, 'share'])];
  const rows = result.hops.map((hop) => [
    hop.hop,
    ...runs.flatMap((_, i) => {
      const mean = hop.meanNs[i];
      const share = hop.share[i];
      return [
        mean === null || mean === undefined ? '-' : number(mean / 1000),
        share === null || share === undefined ? '-' : `${(share * 100).toFixed(1)}%`,
      ];
    }),
  ]);
  return table(header, rows);
}

const show = (value: unknown) =>
  value === null || value === undefined ? '-' : typeof value === 'string' ? value : JSON.stringify(value);

export function configDiffTable(result: CompareResult): string {
  if (result.configDiff.length === 0) return 'config: identical';
  return table(
    ['config path', ...result.runs.map((run, i) => run.label || `run ${i + 1}`)],
    result.configDiff.map((diff) => [diff.path, ...diff.values.map(show)]),
  );
}

/** Simulated time: ns, µs, ms or s. */
export function time(ns: number): string {
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(3)}µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(3)}ms`;
  return `${(ns / 1e9).toFixed(3)}s`;
}

/** One line per event: sequence, simulated time, kind, then the other fields as key=value. */
export function eventLine(event: WireEvent): string {
  const { seq, timeNs, kind, ...rest } = event;
  const fields = Object.entries(rest)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${show(value)}`);
  return [String(seq).padStart(7), time(timeNs).padStart(12), kind.padEnd(24), ...fields].join(' ').trimEnd();
}

/**
 * A horizontal bar chart for the terminal: one labelled bar per row, scaled to the largest value, in
 * eighths of a character cell.
 */
export function barChart(title: string, rows: { label: string; value: number | null }[], width = 40): string {
  const max = Math.max(0, ...rows.map((row) => row.value ?? 0));
  const labelWidth = Math.max(...rows.map((row) => row.label.length), 1);
  const eighths = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
  const lines = rows.map(({ label, value }) => {
    const cells = value === null || max === 0 ? 0 : (value / max) * width;
    const bar = '█'.repeat(Math.floor(cells)) + eighths[Math.round((cells % 1) * 8) % 8];
    return `${label.padEnd(labelWidth)}  ${bar.padEnd(width)}  ${number(value)}`;
  });
  return [title, ...lines].join('\n');
}

/** ns as µs with three decimals (the lab's simulated time is integer ns). */
export const micros = (ns: number) => (ns / 1e3).toFixed(3);

/** A bar of `fraction` (0..1) of `width` cells, in eighths of a cell. */
function bar(fraction: number, width: number): string {
  const eighths = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
  const cells = Math.max(0, Math.min(1, fraction)) * width;
  return '█'.repeat(Math.floor(cells)) + eighths[Math.round((cells % 1) * 8) % 8];
}

const flowName = (flow: FlowRecord) =>
  `flow ${flow.flow} (${flow.mechanism}, ${flow.code ?? 'no code'} → ${flow.outcome}, ${micros(flow.latencyNs)} µs)`;

/**
 * "Where did this fault's time go": who faulted where and how it ended, each hop's start, latency and share
 * of the whole with a bar, what the handler's time went on, and the flows around it.
 */
export function flowReport(story: FlowDetail): string {
  const { flow } = story;
  const header = [
    `flow ${flow.flow}`,
    `device ${flow.device}`,
    `pasid ${flow.pasid ?? '-'}`,
    `${flow.address} ${flow.access}`,
    flow.mechanism,
    `handler ${flow.handler ?? '-'}`,
    `${flow.code ?? '-'} → ${flow.outcome}`,
    `${micros(flow.latencyNs)} µs end to end`,
  ].join('  ');
  const hops = table(
    ['hop', 'start µs', 'latency µs', 'share', ''],
    flow.hops.map((hop) => {
      const share = flow.latencyNs === 0 ? 0 : hop.ns / flow.latencyNs;
      return [
        hop.hop,
        micros(hop.startNs - flow.startNs),
        micros(hop.ns),
        `${(share * 100).toFixed(1)}%`,
        bar(share, 30),
      ];
    }),
  );
  const costs = flow.handlerCosts;
  const lines = [header, '', hops, ''];
  if (costs)
    lines.push(
      `handler: fixed ${micros(costs.fixedNs)} µs, handle_mm_fault ${micros(costs.mmFaultNs)} µs, map ${micros(costs.mapNs)} µs, eviction ${micros(costs.evictionNs)} µs, guest ${micros(costs.guestNs)} µs`,
    );
  const list = (flows: FlowRecord[]) => (flows.length === 0 ? 'none' : flows.map(flowName).join('; '));
  lines.push(
    `causes: ${flow.causes.length === 0 ? 'none' : list(story.causes) + (story.causes.length < flow.causes.length ? ` (of ${flow.causes.join(', ')}; the others are forgotten)` : '')}`,
    `effects: ${list(story.effects)}`,
    `replaces: ${flow.replaces ? `flow ${flow.replaces.flow} (its page was ${flow.replaces.because})` : '-'}`,
    `replaced by: ${story.replacedBy ? flowName(story.replacedBy) : '-'}`,
    `events: ${story.events.length} (GET /labs/:lab/flows/${flow.flow}, or --json)`,
  );
  return lines.join('\n');
}

/** One row per flow: who, where, how it ended, how long, and its longest hop. */
export function flowsTable(flows: FlowRecord[]): string {
  return table(
    [
      'flow',
      'device',
      'pasid',
      'address',
      'access',
      'mechanism',
      'handler',
      'code',
      'outcome',
      'latency µs',
      'longest hop',
    ],
    flows.map((flow) => {
      const longest = flow.hops.reduce<FlowRecord['hops'][number] | null>(
        (best, hop) => (best === null || hop.ns > best.ns ? hop : best),
        null,
      );
      return [
        String(flow.flow),
        flow.device,
        flow.pasid === null ? '-' : String(flow.pasid),
        flow.address,
        flow.access,
        flow.mechanism,
        flow.handler ?? '-',
        flow.code ?? '-',
        flow.outcome,
        micros(flow.latencyNs),
        longest ? `${longest.hop} ${micros(longest.ns)}` : '-',
      ];
    }),
  );
}
